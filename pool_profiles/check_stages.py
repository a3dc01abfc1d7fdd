"""`check_store`'s look at staging markers (staging.py): imports and copies that
finished but left their marker, and ones that never finished (removed by repair once
the grace period is over and nothing adopted them)."""

from __future__ import annotations

import time

from . import pools, registry, staging
from .check_report import WARNING, CheckReport, old_enough
from .errors import PoolProfilesError
from .store import Entry, Store

_STAGE_LABELS = {
    staging.IMPORT: "an import",
    staging.DUPLICATE: "a duplicate",
    staging.COPY: "a copy from another store",
    staging.POOL_COPY: "a pool node's copy",
}


def check_stage(
    store: Store,
    pid: str,
    registered: bool,
    items: list[Entry],
    report: CheckReport,
    repair: bool,
    now: float,
    grace: float,
) -> bool:
    """A staging marker (see staging.py). An unfinished stage (an import or copy whose
    commit never came) is removed whole by repair once the marker is older than the
    grace period (a live stage rewrites it every minute). A finished one whose marker
    stayed: only the marker goes. Finished means registered for a profile, and for a
    node pool's copy (never registered) that its manifest, written last, is there.
    True when `pid` is an unfinished stage."""
    marker = next((i for i in items if i.name == staging.MARKER and not i.is_dir), None)
    if marker is None:
        return False
    key = staging.marker_key(pid)
    what = staging.read_stage(store, pid)
    label = _STAGE_LABELS.get(what or "", "an import")
    node_copy = what == staging.POOL_COPY
    manifest_there = any(i.name == pools.MANIFEST and not i.is_dir for i in items)
    if manifest_there if node_copy else registered:
        issue = report.add(
            "stage_marker", pid, key, f"{key} remains from {label} that finished", WARNING
        )
        if repair:
            store.delete(key)
            issue.repaired = True
        return False
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(marker.mtime or now))
    kind = "unfinished_copy" if what in staging.COPIES else "unfinished_import"
    issue = report.add(
        kind,
        pid,
        pid,
        f"{pid} holds {label} that never finished (marker written {when}); "
        + ("no node uses it" if node_copy else "it is not a profile and no node uses it"),
        WARNING,
    )
    old = old_enough(marker, now, grace)
    if node_copy:
        # The registry has no say; ask again right before deleting whether the copy
        # just finished (its manifest) or a node adopted the pool (any change writes one).
        safe = not store.exists(f"{pid}/{pools.MANIFEST}")
    else:
        # A corrupt registry names nobody: then every stage might be a profile. Keep them.
        registry_ok = not any(i.kind == "registry_corrupt" for i in report.issues)
        safe = registry_ok and not _registered_now(store, pid)
    if repair and old and safe:
        # A registered profile a pool was being copied into keeps its entry: it is
        # empty again, as before the copy.
        store.delete_tree(pid)
        issue.repaired = True
        issue.message += "; removed"
    return True


def _registered_now(store: Store, pid: str) -> bool:
    """Ask the registry again right before deleting: the import may just have finished."""
    try:
        return any(e["id"] == pid for e in registry.list_profiles(store))
    except PoolProfilesError:
        return True  # unknown: keep the data
