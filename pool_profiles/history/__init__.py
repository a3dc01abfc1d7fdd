"""History of pools and profiles: every manifest and registry change keeps the version
it replaced (entries.py), undo and restore are changes like any other (undo.py),
deleted profiles can be restored (deleted.py), and what no kept version uses any more
is collected (collect.py). `check` asks blobs_in_history which blobs are kept."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..blobs import IMAGE_EXTS as _IMAGE_EXTS
from ..errors import CorruptDataError, PoolProfilesError
from ..store import Store
from .deleted import deleted_profiles, restore_profile
from .entries import (
    ENV_DAYS,
    ENV_VERSIONS,
    HISTORY_DIR,
    REGISTRY_HISTORY,
    Tracked,
    check_version,
    enabled,
    history_of,
    list_entries,
    max_days,
    max_versions,
    pool_doc,
    prune,
    read_entry,
    registry_doc,
)
from .recording import _Pending, capture, describing, note, record, tracking
from .undo import restore, undo

__all__ = [
    "ENV_DAYS",
    "ENV_VERSIONS",
    "HISTORY_DIR",
    "REGISTRY_HISTORY",
    "HistoryCheck",
    "Tracked",
    "blobs_in_history",
    "capture",
    "check_registry_history",
    "check_version",
    "current_keys",
    "deleted_profiles",
    "describing",
    "enabled",
    "history_of",
    "is_history_key",
    "keeps_removed",
    "list_entries",
    "max_days",
    "max_versions",
    "note",
    "pool_doc",
    "pool_history",
    "prune",
    "read_entry",
    "record_replaced",
    "registry_doc",
    "restore",
    "restore_profile",
    "tracking",
    "undo",
]


def keeps_removed() -> bool:
    """Whether removed slots' blobs and deleted profiles' pools stay (history on): the
    version that used them is in history, and pruning collects them later."""
    return enabled()


def is_history_key(pool_id: str, key: str) -> bool:
    """A key below a pool's history folder (copies of a pool carry its current state
    only, never its history)."""
    return key.startswith(f"{pool_id}/{HISTORY_DIR}/")


def pool_history(store: Store, pool_id: str, *, limit: int | None = None) -> dict[str, Any]:
    """JSON for GET /grid_pool/history: the kept versions, newest first."""
    entries = history_of(store, pool_doc(pool_id), limit=limit)
    return {
        "pool_id": pool_id,
        "versions": [e.public() for e in entries],
        "max_versions": max_versions(),
        "max_days": max_days(),
    }


@dataclass
class HistoryCheck:
    """What `check` needs from a pool's history: the blobs kept versions use, and
    problems (kind, key, message, severity) to report."""

    kept: set[str] = field(default_factory=set)
    damaged: bool = False  # some version could not be read: which blobs it uses is unknown
    issues: list[tuple[str, str, str, str]] = field(default_factory=list)


def blobs_in_history(store: Store, pool_id: str) -> HistoryCheck:
    """Every blob name a kept version of pool `pool_id` uses (each version read whole:
    check is the thorough one). A damaged version is moved aside and reported."""
    doc = pool_doc(pool_id)
    out = HistoryCheck()
    for item in store.listdir(doc.folder):
        if ".corrupt-" in item.name:
            out.issues.append(
                (
                    "quarantined",
                    f"{doc.folder}/{item.name}",
                    f"{doc.folder}/{item.name} is a copy of a damaged history version",
                    "info",
                )
            )
    for name in list_entries(store, doc):
        try:
            entry = read_entry(store, doc, name)
        except FileNotFoundError:
            continue  # pruned meanwhile
        except CorruptDataError as exc:
            out.damaged = True
            out.issues.append(("history_corrupt", f"{doc.folder}/{name.name}", str(exc), "error"))
            continue
        except PoolProfilesError as exc:
            out.damaged = True
            out.issues.append(("check_failed", f"{doc.folder}/{name.name}", exc.message, "error"))
            continue
        try:
            previous = json.loads((entry.document or b"null").decode("utf-8"))
        except ValueError:
            continue  # _split checked it parses
        for slot in previous.get("slots") or [] if isinstance(previous, dict) else []:
            for field_name in ("image", "mask"):
                value = slot.get(field_name) if isinstance(slot, dict) else None
                if isinstance(value, str) and value:
                    out.kept.add(value)
    return out


def current_keys(pool_id: str, manifest: bytes | None, keys: list[str]) -> list[str]:
    """The keys of a pool's current state among `keys` (a listing of the pool): not
    its history, nor blobs (and their thumbnails) only kept versions use. A copy of a
    pool carries its current state only; without a manifest (rebuilt from the blobs
    present) or with one that does not parse, every blob is current."""
    keys = [k for k in keys if not is_history_key(pool_id, k)]
    if manifest is None:
        return keys
    try:
        doc = json.loads(manifest.decode("utf-8"))
        slots = doc["slots"]
        used = {s.get(f) for s in slots for f in ("image", "mask") if isinstance(s, dict)}
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return keys
    out = []
    for key in keys:
        parts = key.split("/")
        blob = parts[1] if len(parts) == 2 else None
        if len(parts) == 3 and parts[1] == "thumbs" and parts[2].endswith(".webp"):
            blob = parts[2][: -len(".webp")]
        if blob is not None and blob.lower().endswith(_IMAGE_EXTS) and blob not in used:
            continue
        out.append(key)
    return out


def record_replaced(
    store: Store, pool_id: str, old: bytes | None, new: bytes, description: str, dropped: list[str]
) -> None:
    """Keep in history a manifest version a writer replaced outside update_manifest
    (a copy from another store updating its earlier copy)."""
    if enabled():
        pending = _Pending(description=description, dropped=list(dropped))
        record(store, pool_doc(pool_id), old, new, pending)


def check_registry_history(store: Store) -> list[tuple[str, str | None, str | None, str, str]]:
    """What `check` reports of the registry's history: damaged versions (moved aside)
    and deleted profiles kept for restore: (kind, id, key, message, severity)."""
    doc = registry_doc()
    out: list[tuple[str, str | None, str | None, str, str]] = []
    for name in list_entries(store, doc):
        try:
            read_entry(store, doc, name)
        except FileNotFoundError:
            continue
        except CorruptDataError as exc:
            out.append(("history_corrupt", None, f"{doc.folder}/{name.name}", str(exc), "error"))
    # The registry read without side effects (check reports a damaged one on its own;
    # nothing is quarantined here): a damaged one lists no deleted profiles.
    try:
        data = store.read_versioned(doc.key).data
        parsed = json.loads(data.decode("utf-8")) if data else {"profiles": []}
        ids = {p.get("id") for p in parsed["profiles"] if isinstance(p, dict)}
        gone = deleted_profiles(store, registered={i for i in ids if isinstance(i, str)})
    except (ValueError, TypeError, KeyError, RecursionError, PoolProfilesError):
        gone = []
    for d in gone:
        out.append(
            (
                "deleted_profile",
                d["id"],
                d["id"],
                f"profile {d['name']!r} was deleted; its pool is kept for `profiles restore` "
                "until history prunes the version that deleted it",
                "info",
            )
        )
    return out
