"""Partial files this pack writes on the local disk (an export zip or a dataset
folder beside its target, an upload spool) are named
`<prefix>.pool-profiles-<pid>-<hex>.part`, so what a killed process (kill -9, a power
cut) leaves is recognisable and removed by the next run: a file whose writer is no
longer running, or that is older than a day (a pid can be reused), is stale. A live
writer's file is never touched."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
import uuid

TAG = "pool-profiles"
#: Past this age a part file is stale even if a process with its pid runs.
MAX_AGE_SECONDS = 24 * 3600
_PART = re.compile(rf"^(?P<prefix>.*)\.{TAG}-(?P<pid>\d+)-[0-9a-f]{{8}}\.part\Z")


def part_name(prefix: str) -> str:
    """A fresh part-file name for this process (`prefix` is a plain file name)."""
    return f"{prefix}.{TAG}-{os.getpid()}-{uuid.uuid4().hex[:8]}.part"


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill(pid, 0) would send CTRL_C there: trust the age alone
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it runs, as someone else
        return True
    return True


def remove_stale(directory: str, *, now: float | None = None) -> list[str]:
    """Remove the stale part files of ours directly in `directory`; return their names.
    A folder that cannot be listed has none (nothing to report)."""
    now = time.time() if now is None else now
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    removed = []
    for name in names:
        match = _PART.match(name)
        if match is None:
            continue
        path = os.path.join(directory, name)
        try:
            age = now - os.path.getmtime(path)
            if _running(int(match["pid"])) and age < MAX_AGE_SECONDS:
                continue
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)  # a dataset export's folder
            else:
                os.remove(path)
        except OSError:
            continue  # gone meanwhile, or not ours to remove
        removed.append(name)
    return removed


def discard(path: str) -> None:
    with contextlib.suppress(OSError):
        os.remove(path)
