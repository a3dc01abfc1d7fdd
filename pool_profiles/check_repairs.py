"""`check_store`'s manifest repairs, each a versioned manifest update that checks
again inside the update: possibly lost images put back as slots, slots whose image is
gone dropped."""

from __future__ import annotations

import time
from typing import Any

from . import pools
from .archive import prune_manifest, referenced_blobs
from .check_report import ERROR, CheckReport
from .errors import PoolProfilesError
from .store import Store


def restore_slots(
    store: Store,
    pid: str,
    names: list[str],
    mtimes: dict[str, float | None],
    report: CheckReport,
) -> None:
    """Put possibly lost images back as unlabeled slots at the end of their pool, through
    the normal versioned manifest update (a name some slot uses meanwhile is skipped)."""
    if not names:
        return

    def change(doc: Any) -> list[str]:
        used = referenced_blobs(doc)
        back = [n for n in names if n not in used and store.exists(pools.blob_key(pid, n))]
        for name in back:
            added = mtimes.get(name) or time.time()
            doc["slots"].append({"image": name, "mask": None, "label": "", "added": added})
        if back and len(doc["slots"]) == len(back):
            doc["active"] = 0
        return back

    try:
        restored = set(pools.update_manifest(store, pid, change))
    except PoolProfilesError as exc:
        key = f"{pid}/{pools.MANIFEST}"
        report.add("repair_failed", pid, key, f"could not update {key}: {exc.message}", ERROR)
        return
    for issue in report.issues:
        if issue.id == pid and issue.kind == "possibly_lost_slot":
            if (issue.key or "").rsplit("/", 1)[-1] in restored:
                issue.repaired = True
                issue.message += "; put back as an unlabeled slot"


class _Vanished(Exception):
    """The manifest disappeared before the repair could update it (internal)."""


def drop_missing(store: Store, pid: str, missing: list[str], report: CheckReport) -> None:
    key = f"{pid}/{pools.MANIFEST}"

    def change(doc: Any) -> list[str]:
        if not isinstance(doc, dict) or not isinstance(doc.get("slots"), list):
            return []  # vanished or damaged meanwhile: leave it
        used = referenced_blobs(doc)
        # Check again inside the update: the slot may have been removed, or the blob
        # may have appeared, since the listing.
        gone = {n for n in missing if n in used and not store.exists(pools.blob_key(pid, n))}
        if not gone:
            return []
        pruned, dropped = prune_manifest(doc, set(used) - gone)
        doc.clear()
        doc.update(pruned)
        return dropped

    def gone() -> Any:
        raise _Vanished

    try:
        dropped = set(store.update_json(key, change, default=gone))
    except _Vanished:
        return  # deleted meanwhile (e.g. the profile): nothing to repair, nothing to write
    except PoolProfilesError as exc:
        report.add("repair_failed", pid, key, f"could not update {key}: {exc.message}", ERROR)
        return
    for issue in report.issues:
        if issue.id == pid and issue.kind in ("missing_image", "missing_mask"):
            name = (issue.key or "").rsplit("/", 1)[-1]
            if name in dropped:
                issue.repaired = True
                issue.message += "; slot dropped" if issue.kind == "missing_image" else "; cleared"
