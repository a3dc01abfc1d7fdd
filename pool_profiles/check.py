"""`check_store`: find (and optionally repair) what interrupted writes, crashes and
hand edits leave in a store.

Checks: the registry parses; every pool's manifest parses and names blobs that exist;
orphaned blobs (written, never referenced: an add that died between blob and manifest
write) and leftover temp files; missing thumbnails; imports and copies that never
finished (their staging marker is still there and their commit never came).

Repair is conservative and never destroys what a user may have been told was saved:
images no slot uses but newer than their manifest are possibly lost slots, put back
(unlabeled, at the end of their pool) through a versioned manifest update; other
unused blobs are deleted only with `delete_orphans`; both only once older than a grace
period (an add in flight writes its blob before its manifest). Temp files go after
the grace period, slots whose image is gone are dropped through a versioned manifest
update, thumbnails are remade. A corrupt registry or manifest is reported and never
replaced: it holds names and labels nothing else has.

This module walks the store; the report types are in check_report.py, the staging
markers' checks in check_stages.py and the manifest repairs in check_repairs.py."""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

from . import history, pools, registry, staging
from .archive import referenced_blobs
from .blobs import MASK_NAME
from .check_repairs import drop_missing, restore_slots
from .check_report import (
    DEFAULT_GRACE_SECONDS,
    ERROR,
    INFO,
    WARNING,
    CheckReport,
    Issue,
    old_enough,
)
from .check_stages import check_stage
from .errors import PoolProfilesError, ValidationError
from .ids import ID_PATTERN
from .store import Entry, Store

__all__ = [
    "DEFAULT_GRACE_SECONDS",
    "ERROR",
    "INFO",
    "WARNING",
    "CheckReport",
    "Issue",
    "check_store",
]


def _ls(store: Store, prefix: str) -> list[Entry]:
    # Hidden entries too: leftover temp files are what the check looks for.
    return store.listdir(prefix, hidden=True)


def _is_temp(name: str) -> bool:
    return name.endswith(".tmp")


def _is_quarantined(name: str) -> bool:
    return ".corrupt-" in name


def _parse_registry(store: Store, report: CheckReport) -> list[str]:
    """Registered ids; issues for a registry that does not parse or has bad entries."""
    key = registry.REGISTRY_KEY
    data = store.read_versioned(key).data
    if data is None:
        return []
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        report.add("registry_corrupt", None, key, f"{key} is not valid JSON ({exc})", ERROR)
        return []
    if not isinstance(doc, dict) or not isinstance(doc.get("profiles"), list):
        report.add("registry_corrupt", None, key, f'{key} is not {{"profiles": [...]}}', ERROR)
        return []
    found: list[str] = []
    names: dict[str, str] = {}
    for i, entry in enumerate(doc["profiles"]):
        pid = entry.get("id") if isinstance(entry, dict) else None
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(pid, str) or not ID_PATTERN.match(pid) or not isinstance(name, str):
            report.add(
                "registry_bad_entry", None, key, f"{key}: entry {i} has no usable id/name", ERROR
            )
            continue
        if pid in found:
            report.add("registry_duplicate", pid, key, f"{key}: id {pid!r} is listed twice", ERROR)
            continue
        folded = name.strip().casefold()
        if folded in names:
            report.add(
                "registry_duplicate_name",
                pid,
                key,
                f"{key}: profiles {names[folded]!r} and {pid!r} are both named {name!r}",
                WARNING,
            )
        names[folded] = pid
        found.append(pid)
    return found


def _read_manifest(
    store: Store, pid: str, report: CheckReport
) -> tuple[dict[str, Any] | None, bool]:
    """(manifest, ok). (None, True): no manifest; (None, False): corrupt (reported)."""
    key = f"{pid}/{pools.MANIFEST}"
    data = store.read_versioned(key).data
    if data is None:
        return None, True
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        report.add("manifest_corrupt", pid, key, f"{key} is not valid JSON ({exc})", ERROR)
        return None, False
    problem = None
    if not isinstance(doc, dict) or not isinstance(doc.get("slots"), list):
        problem = 'not {"slots": [...]}'
    else:
        for i, slot in enumerate(doc["slots"]):
            if not isinstance(slot, dict):
                problem = f"slot {i} is not an object"
                break
            try:
                pools.check_blob_name(slot.get("image"))
                if slot.get("mask"):
                    pools.check_blob_name(slot["mask"])
            except ValidationError as exc:
                problem = f"slot {i}: {exc.message}"
                break
    if problem:
        report.add("manifest_corrupt", pid, key, f"{key} is damaged: {problem}", ERROR)
        return None, False
    return doc, True


def _check_leftovers(
    store: Store,
    pid: str | None,
    prefix: str,
    items: list[Entry],
    report: CheckReport,
    repair: bool,
    now: float,
    grace: float,
) -> None:
    """Temp files and quarantined copies directly below `prefix`."""
    base = f"{prefix}/" if prefix else ""
    for item in items:
        if item.is_dir:
            continue
        key = base + item.name
        if _is_temp(item.name):
            issue = report.add(
                "temp_file", pid, key, f"{key} is a temporary file left by a write", WARNING
            )
            if repair and old_enough(item, now, grace):
                store.delete_temp(prefix, item.name)
                issue.repaired = True
        elif _is_quarantined(item.name):
            report.add(
                "quarantined",
                pid,
                key,
                f"{key} is a copy of a damaged document kept for inspection",
                INFO,
            )


def _check_pool(
    store: Store,
    pid: str,
    registered: bool,
    report: CheckReport,
    repair: bool,
    now: float,
    grace: float,
    delete_orphans: bool = False,
) -> None:
    if repair:  # versions past the bounds go, with what only they used
        history.prune(store, history.pool_doc(pid), now=now)
    # Manifest first, listing second: an add writes its blob before the manifest names
    # it, so every blob this manifest names is in the listing unless it is really gone.
    manifest, parsed = _read_manifest(store, pid, report)
    items = _ls(store, pid)
    if not registered and _is_placeholder(store, pid, items):
        return  # a folder some services keep after its objects went: not a pool
    if check_stage(store, pid, registered, items, report, repair, now, grace):
        return  # an unfinished import: not a pool (no thumbnails, no orphans)
    report.pools += 1
    _check_leftovers(store, pid, pid, items, report, repair, now, grace)
    blobs: dict[str, Entry] = {}
    for item in items:
        if (
            item.is_dir
            or item.name.startswith(".")
            or item.name in (pools.MANIFEST, staging.MARKER)
        ):
            continue
        if _is_temp(item.name) or _is_quarantined(item.name):
            continue
        try:
            blobs[pools.check_blob_name(item.name)] = item
        except ValidationError:
            report.add(
                "unknown_file", pid, f"{pid}/{item.name}", "not a pool file; left alone", INFO
            )
    thumbs = {t.name: t for t in _ls(store, f"{pid}/{pools.THUMBS}") if not t.is_dir}
    thumbs_dir = f"{pid}/{pools.THUMBS}"
    _check_leftovers(store, pid, thumbs_dir, list(thumbs.values()), report, repair, now, grace)
    if not parsed:
        return  # corrupt: which blobs are used is unknown, so nothing is touched
    if manifest is None:
        if blobs and registered:
            report.add(
                "manifest_missing",
                pid,
                f"{pid}/{pools.MANIFEST}",
                f"profile {pid} has images but no manifest; it is rebuilt from them on read "
                "(labels unknown)",
                WARNING,
            )
        # Without a manifest every image is used (the pool is rebuilt from the blobs).
        manifest = pools.read_manifest(store, pid) if blobs else {"slots": []}

    used = set(referenced_blobs(manifest))
    missing = [n for n in used if n not in blobs]
    for name in missing:
        is_image = any(s.get("image") == name for s in manifest["slots"])
        report.add(
            "missing_image" if is_image else "missing_mask",
            pid,
            f"{pid}/{name}",
            f"{pid}/{name} is named by the manifest but not stored"
            + ("; its slot is unusable" if is_image else ""),
            ERROR if is_image else WARNING,
        )
    if repair and missing:
        drop_missing(store, pid, missing, report)

    # Blobs a kept history version uses are not orphans (see history.blobs_in_history).
    kept = history.blobs_in_history(store, pid)
    for kind, hkey, message, severity in kept.issues:
        report.add(kind, pid, hkey, message, severity)
    manifest_entry = next((i for i in items if i.name == pools.MANIFEST and not i.is_dir), None)
    lost, orphans = _unused_blobs(
        {n: b for n, b in blobs.items() if n not in kept.kept},
        used,
        manifest,
        manifest_entry.mtime if manifest_entry else None,
    )
    for item in lost:
        key = f"{pid}/{item.name}"
        report.add(
            "possibly_lost_slot",
            pid,
            key,
            f"{key} is an image no slot uses, newer than the pool's manifest: possibly an "
            "acknowledged add whose slot was lost; --repair puts it back at the end",
            WARNING,
        )
    if repair and lost:
        old = [i.name for i in lost if old_enough(i, now, grace)]
        restore_slots(store, pid, old, {i.name: i.mtime for i in lost}, report)
    for item in orphans:
        key = f"{pid}/{item.name}"
        issue = report.add(
            "orphan_blob",
            pid,
            key,
            f"{key} is stored but not used"
            + ("" if delete_orphans else "; kept (--delete-orphans deletes it)"),
            WARNING,
        )
        if kept.damaged:
            continue  # a damaged version may use it: keep it
        if (
            repair
            and delete_orphans
            and old_enough(item, now, grace)
            and _still_unused(store, pid, item.name)
        ):
            store.delete(key)
            with contextlib.suppress(PoolProfilesError):
                store.delete(pools.thumb_key(pid, item.name))
                thumbs.pop(f"{item.name}.webp", None)
            issue.repaired = True

    images = {s["image"] for s in manifest["slots"]} & set(blobs)
    for name in sorted(images):
        if f"{name}.webp" in thumbs:
            continue
        key = pools.thumb_key(pid, name)
        issue = report.add("missing_thumbnail", pid, key, f"{key} is missing", INFO)
        if repair:
            try:
                pools.thumbnail(store, pid, name)
                issue.repaired = True
            except PoolProfilesError as exc:
                issue.message += f"; remaking it failed: {exc.message}"
                issue.severity = WARNING
    for tname, item in thumbs.items():
        if _is_temp(tname) or _is_quarantined(tname) or tname.startswith("."):
            continue
        if tname.endswith(".webp") and tname[: -len(".webp")] in blobs:
            continue
        key = f"{pid}/{pools.THUMBS}/{tname}"
        issue = report.add("orphan_thumbnail", pid, key, f"{key} belongs to no image", INFO)
        if repair and old_enough(item, now, grace):
            with contextlib.suppress(ValidationError):
                store.delete(key)
                issue.repaired = True


def _is_placeholder(store: Store, pid: str, items: list[Entry]) -> bool:
    """A folder with no object anywhere below (SeaweedFS keeps those after a delete)."""
    return not any(not i.is_dir for i in items) and not store.walk(pid)


def _unused_blobs(
    blobs: dict[str, Entry],
    used: set[str],
    manifest: dict[str, Any],
    manifest_mtime: float | None,
) -> tuple[list[Entry], list[Entry]]:
    """The stored blobs no slot uses, as (possibly lost slots, orphans). The one place
    that decides which unused data may be a user's acknowledged work (kept history, when
    there is one, can be consulted here too).

    An image newer than the manifest (same second counts: S3 times are whole seconds)
    was written after the manifest's last change: an add in flight, an add whose
    manifest write failed, or one whose slot a writer that ignored compare-and-swap
    overwrote. Older unused blobs are what removing slots and masks leaves behind."""
    lost: list[Entry] = []
    orphans: list[Entry] = []
    for name, item in sorted(blobs.items()):
        if name in used:
            continue
        newer = (
            manifest_mtime is not None and item.mtime is not None and item.mtime >= manifest_mtime
        )
        if newer and not (MASK_NAME.match(name) or name.startswith("mask_")):
            lost.append(item)
        else:
            orphans.append(item)
    return lost, orphans


def _still_unused(store: Store, pid: str, name: str) -> bool:
    """Re-read the manifest right before deleting: it may have changed since."""
    try:
        manifest, parsed = _read_manifest(store, pid, CheckReport(store.url, False))
    except PoolProfilesError:
        return False
    if not parsed:
        return False
    return manifest is not None and name not in referenced_blobs(manifest)


def check_store(
    store: Store,
    repair: bool = False,
    *,
    grace_seconds: float = DEFAULT_GRACE_SECONDS,
    now: float | None = None,
    delete_orphans: bool = False,
) -> CheckReport:
    """Check every pool (registered profiles and node pools) in `store`; with `repair`,
    fix what can be fixed safely. Corrupt documents are reported, never replaced.
    Unused images are deleted only with `delete_orphans` too (and `repair`)."""
    now = time.time() if now is None else now
    report = CheckReport(store.url, repair)
    if repair:  # registry versions past the bounds go, with the pools only they kept
        history.prune(store, history.registry_doc(), now=now)
    registered = _parse_registry(store, report)
    report.profiles = len(registered)
    for kind, hid, hkey, message, severity in history.check_registry_history(store):
        report.add(kind, hid, hkey, message, severity)
    root_items = _ls(store, "")
    _check_leftovers(store, None, "", root_items, report, repair, now, grace_seconds)
    pool_ids = list(registered)
    for item in root_items:
        if item.is_dir and ID_PATTERN.match(item.name) and item.name not in pool_ids:
            pool_ids.append(item.name)
    for pid in pool_ids:
        try:
            _check_pool(
                store, pid, pid in registered, report, repair, now, grace_seconds, delete_orphans
            )
        except PoolProfilesError as exc:
            report.add("check_failed", pid, pid, f"checking {pid} failed: {exc.message}", ERROR)
    return report
