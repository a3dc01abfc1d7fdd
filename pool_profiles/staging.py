"""Staged pools: data written under a fresh id before it is complete (an import, a
duplicate, a copy from another store, a pasted pool node's copy). A marker object is
written first and removed at commit, so a stage a crash or a failing store left
behind is recognisable: `check` reports it and `--repair` removes it after the grace
period. A node's own pool never has a marker, so the two are never confused.

Commit is the registry entry for profiles (IMPORT, DUPLICATE, COPY). A node pool's
copy (POOL_COPY) has no entry: its manifest, written last, says it is complete, and
removing the marker is its commit."""

from __future__ import annotations

import json
import logging
import os
import socket
import time

from .errors import PoolProfilesError
from .ids import check_id
from .store import Store

log = logging.getLogger("pool_profiles.staging")

#: Not a blob name (check_blob_name refuses .json), so no rebuild ever adopts it.
MARKER = "importing.json"
#: A long stage rewrites its marker this often, so a live one never looks stale.
HEARTBEAT_SECONDS = 60.0

# What a marker stages (its "stage" field).
IMPORT, DUPLICATE, COPY, POOL_COPY = "import", "duplicate", "copy", "pool copy"
COPIES = frozenset({DUPLICATE, COPY, POOL_COPY})


def marker_key(pool_id: str) -> str:
    return f"{check_id(pool_id, 'pool id')}/{MARKER}"


def read_stage(store: Store, pool_id: str) -> str | None:
    """What the marker of `pool_id` stages (IMPORT, POOL_COPY, ...); None when it is
    missing or unreadable."""
    try:
        doc = json.loads(store.read_bytes(marker_key(pool_id)).decode("utf-8"))
    except (FileNotFoundError, PoolProfilesError, UnicodeDecodeError, ValueError):
        return None
    what = doc.get("stage") if isinstance(doc, dict) else None
    return what if isinstance(what, str) else None


class Stage:
    """`stage = Stage.begin(store, pid, "import")` writes the marker; call
    `stage.beat()` during long work and `stage.commit()` right after the registry entry
    is written. A stage that fails keeps its marker while the caller deletes the data;
    if that fails too (or the process dies), `check` finds what is left."""

    def __init__(self, store: Store, pool_id: str, what: str, clock=time.time) -> None:
        self.store = store
        self.pool_id = pool_id
        self.what = what
        self._clock = clock
        self._written = 0.0

    @classmethod
    def begin(cls, store: Store, pool_id: str, what: str) -> Stage:
        stage = cls(store, pool_id, what)
        stage._write()
        return stage

    def _write(self) -> None:
        now = self._clock()
        doc = {"stage": self.what, "started": now, "host": socket.gethostname(), "pid": os.getpid()}
        self.store.write_bytes(marker_key(self.pool_id), json.dumps(doc).encode("utf-8"))
        self._written = now

    def beat(self) -> None:
        """Rewrite the marker when it is getting old (its time is what check reads)."""
        if self._clock() - self._written >= HEARTBEAT_SECONDS:
            self._write()

    def commit(self, *, required: bool = False) -> None:
        """The stage is complete (its entry registered): the marker goes. A marker that
        cannot be removed is harmless where the registry says the stage finished (check
        removes it); with `required` (a node pool's copy) its error propagates."""
        try:
            self.store.delete(marker_key(self.pool_id))
        except PoolProfilesError as exc:
            if required:
                raise
            log.warning("pool-profiles: could not remove %s: %s", marker_key(self.pool_id), exc)
