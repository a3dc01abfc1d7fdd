"""What pruning collects once no kept version uses it. Cheap by design (it runs on the
change path every few changes): it reads the headers of the pruned versions (the blob
names each change dropped and added), the oldest kept version and the current
document, never every kept version. `check` is the thorough one: it reads every kept
version (blobs_in_history) before it calls a blob an orphan."""

from __future__ import annotations

import contextlib
import json
import logging

from ..blobs import blob_key, check_blob_name, thumb_key
from ..errors import CorruptDataError, PoolProfilesError, ValidationError
from ..ids import ID_PATTERN
from ..store import Store
from .entries import RESTORE, UNDO, Entry, EntryName, Tracked, read_entry, read_header

log = logging.getLogger("pool_profiles.history")


def _quoted(name: str) -> bytes:
    # Blob names are [A-Za-z0-9_.-]: JSON never escapes them, so a byte search finds them.
    return b'"' + name.encode("ascii") + b'"'


def pool_blobs(store: Store, doc: Tracked, pruned: list[Entry], kept: list[EntryName]) -> list[str]:
    """Delete the blobs that pruned changes dropped and no kept version (nor the
    current manifest) uses; returns their names."""
    state: dict[str, bool] = {}  # name -> still used after the pruned changes
    for entry in pruned:  # oldest first
        for name in entry.names("dropped"):
            state[name] = False
        for name in entry.names("added"):
            state[name] = True
    candidates = {name for name, used in state.items() if not used}
    if not candidates:
        return []
    try:
        for name in kept:
            if name.kind in (UNDO, RESTORE):  # an undo or restore may bring names back
                entry = read_header(store, doc, name)
                if entry is None:
                    return []  # unknown: keep everything this time
                candidates -= set(entry.names("added"))
        if kept:
            oldest = read_entry(store, doc, kept[0]).document or b""
            candidates = {n for n in candidates if _quoted(n) not in oldest}
        current = store.read_versioned(doc.key).data or b""
    except (FileNotFoundError, CorruptDataError, UnicodeEncodeError):
        return []  # a version vanished or is damaged: keep everything this time
    collected = []
    assert doc.pool_id is not None
    for name in sorted(candidates):
        try:
            check_blob_name(name)
            if _quoted(name) in current:
                continue
            store.delete(blob_key(doc.pool_id, name))
            store.delete(thumb_key(doc.pool_id, name))
            collected.append(name)
        except (ValidationError, UnicodeEncodeError):
            continue  # not a name of ours: nothing to delete
        except PoolProfilesError as exc:  # an orphan costs space, not correctness
            log.warning("pool-profiles: could not collect %s/%s: %s", doc.pool_id, name, exc)
    return collected


def deleted_pools(
    store: Store, doc: Tracked, pruned: list[Entry], kept: list[EntryName]
) -> list[str]:
    """Delete the pools of profiles deleted in pruned versions (no kept version can
    restore them) unless the profile is registered again; returns their ids."""
    gone = [e.header["subject"]["id"] for e in pruned if _deleted_id(e)]
    if not gone:
        return []
    try:
        data = store.read_versioned(doc.key).data
        current = json.loads(data.decode("utf-8")) if data else {"profiles": []}
        registered = {p.get("id") for p in current.get("profiles", []) if isinstance(p, dict)}
    except (ValueError, AttributeError, PoolProfilesError):
        return []  # a damaged registry names nobody: keep every pool
    still = set()
    for name in kept:
        entry = read_header(store, doc, name)
        if entry is None:
            return []
        if _deleted_id(entry):
            still.add(entry.header["subject"]["id"])
    collected = []
    for pid in dict.fromkeys(gone):
        if pid in registered or pid in still:
            continue
        with contextlib.suppress(PoolProfilesError):
            store.delete_tree(pid)
            collected.append(pid)
    return collected


def _deleted_id(entry: Entry) -> bool:
    subject = entry.header.get("subject")
    return (
        entry.header.get("action") == "delete"
        and isinstance(subject, dict)
        and isinstance(subject.get("id"), str)
        and bool(ID_PATTERN.match(subject["id"]))
    )
