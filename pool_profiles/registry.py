"""The profile registry `profiles.json`: {"profiles": [{"id", "name", "created", ...}]}.

Every change is a `Store.update_json` (read → change → conditional write, retried), so
two processes creating profiles at once both keep theirs. A registry that does not
parse, or has the wrong shape, is never replaced: a copy is kept aside and every call
raises CorruptDataError until someone fixes it (the earlier pack read a truncated
registry as empty and the next create orphaned every profile)."""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

from . import history
from .blobs import copy_pool_objects
from .documents import BadShape, parse_document, read_document, update_document
from .errors import ConflictError, NotFoundError
from .ids import ID_PATTERN, NAME_MAX, check_id, clean_name, new_id, same_name
from .manifest import check_manifest
from .staging import MARKER, Stage
from .store import Store

log = logging.getLogger("pool_profiles.registry")

REGISTRY_KEY = "profiles.json"
_MANIFEST = "manifest.json"  # pools.MANIFEST; not imported to keep the layers flat

Profile = dict[str, Any]  # {"id": str, "name": str, "created": float, ...unknown keys kept}

T = TypeVar("T")


def _empty() -> dict[str, Any]:
    return {"profiles": []}


def _check(doc: Any) -> list[Profile]:
    """The entries of a parsed registry, or BadShape. Names are not re-validated:
    data written before the rules (long names, case twins) still loads."""
    if not isinstance(doc, dict) or not isinstance(doc.get("profiles"), list):
        raise BadShape('expected {"profiles": [...]}')
    for i, entry in enumerate(doc["profiles"]):
        if not isinstance(entry, dict):
            raise BadShape(f"entry {i} is not an object")
        if not isinstance(entry.get("id"), str) or not isinstance(entry.get("name"), str):
            raise BadShape(f"entry {i} lacks a text id or name")
    return doc["profiles"]


def _usable(entry: Profile) -> bool:
    # An entry whose id is not a valid id can never be addressed (it would become a
    # path); it is hidden from listings but kept in the file.
    return bool(ID_PATTERN.match(entry["id"]))


def _load(store: Store) -> list[Profile]:
    return read_document(store, REGISTRY_KEY, _check) or []


def _update(store: Store, change: Callable[[list[Profile]], T]) -> T:
    with history.tracking(store, history.registry_doc()) as track:
        return update_document(
            store, REGISTRY_KEY, _check, track.change(change), track.default(_empty), track.written
        )


def _find(entries: list[Profile], pid: str) -> Profile | None:
    return next((e for e in entries if e["id"] == pid), None)


def _name_holder(
    entries: list[Profile], name: str, *, other_than: str | None = None
) -> Profile | None:
    return next((e for e in entries if e["id"] != other_than and same_name(e["name"], name)), None)


def _taken(name: str) -> ConflictError:
    return ConflictError(f"a profile named {name!r} already exists", code="name_taken")


def _now(ts: float | None) -> float:
    return time.time() if ts is None else float(ts)


# -- reading -----------------------------------------------------------------------


def _public(entry: Profile) -> Profile:
    """A copy fit to hand out: a hand-edited `created` of NaN or text would make the
    JSON sent to browsers invalid."""
    out = dict(entry)
    created = out.get("created")
    if not isinstance(created, (int, float)) or isinstance(created, bool):
        out["created"] = 0
    elif not math.isfinite(created):
        out["created"] = 0
    return out


def list_profiles(store: Store) -> list[Profile]:
    """All entries (missing registry: []). Corrupt: quarantined copy + CorruptDataError."""
    return [_public(e) for e in _load(store) if _usable(e)]


def profiles_in(store: Store, data: bytes) -> list[Profile]:
    """list_profiles of registry bytes already read (e.g. by a conditional read)."""
    return [_public(e) for e in parse_document(store, REGISTRY_KEY, data, _check) if _usable(e)]


def get_profile(store: Store, pid: str) -> Profile:
    """The entry for id `pid` (checked) or NotFoundError."""
    check_id(pid, "profile id")
    entry = _find(_load(store), pid)
    if entry is None:
        raise NotFoundError(f"no profile with id {pid!r}")
    return _public(entry)


def find_by_name(store: Store, name: str) -> Profile | None:
    """Case-insensitive name lookup (used by the PoolProfile node for API workflows)."""
    if not isinstance(name, str) or not name.strip():
        return None
    entries = [e for e in _load(store) if _usable(e)]
    # Old data may hold case twins: an exact match wins over a case-insensitive one.
    exact = next((e for e in entries if e["name"].strip() == name.strip()), None)
    found = exact or _name_holder(entries, name)
    return _public(found) if found else None


# -- changing ----------------------------------------------------------------------


def create_profile(
    store: Store, name: str, *, pid: str | None = None, ts: float | None = None
) -> Profile:
    """New empty profile (ConflictError code 'name_taken' for a duplicate name)."""
    name = clean_name(name)
    pid = new_id() if pid is None else check_id(pid, "profile id")
    entry: Profile = {"id": pid, "name": name, "created": _now(ts)}

    def change(entries: list[Profile]) -> Profile:
        if _find(entries, pid) is not None:
            raise ConflictError(f"a profile with id {pid!r} already exists", code="id_taken")
        if _name_holder(entries, name) is not None:
            raise _taken(name)
        entries.append(dict(entry))
        history.note(f"created profile “{name}”", action="create", subject=entry)
        return dict(entry)

    return _update(store, change)


def rename_profile(store: Store, pid: str, name: str) -> Profile:
    """Give profile `pid` a new name (unique ignoring case; its own case may change)."""
    check_id(pid, "profile id")
    name = clean_name(name)

    def change(entries: list[Profile]) -> Profile:
        entry = _find(entries, pid)
        if entry is None:
            raise NotFoundError(f"no profile with id {pid!r}")
        if _name_holder(entries, name, other_than=pid) is not None:
            raise _taken(name)
        history.note(f"renamed profile “{entry['name']}” to “{name}”", action="rename")
        entry["name"] = name
        return dict(entry)

    return _update(store, change)


def delete_profile(store: Store, pid: str) -> None:
    """Remove the entry, then its pool data. NotFoundError for an unknown id. With
    history on, the pool stays (restorable: history.restore_profile) until the
    registry version that deleted it is pruned."""
    check_id(pid, "profile id")

    def change(entries: list[Profile]) -> None:
        entry = _find(entries, pid)
        if entry is None:
            raise NotFoundError(f"no profile with id {pid!r}")
        history.note(f"deleted profile “{entry['name']}”", action="delete", subject=entry)
        entries[:] = [e for e in entries if e["id"] != pid]

    _update(store, change)
    if history.keeps_removed():
        return
    # Entry first: a crash between the two leaves orphaned data, never a dangling entry.
    store.delete_tree(pid)


def duplicate_profile(
    store: Store, src_id: str, name: str, *, pid: str | None = None, ts: float | None = None
) -> Profile:
    """Copy images, masks, labels, thumbnails (server-side copy where possible)."""
    check_id(src_id, "profile id")
    name = clean_name(name)
    given = pid is not None
    pid = check_id(pid, "profile id") if pid is not None else new_id()
    entries = _load(store)
    if _find(entries, src_id) is None:
        raise NotFoundError(f"no profile with id {src_id!r}")
    if _name_holder(entries, name) is not None:
        raise _taken(name)  # fail before copying anything
    # A fresh random id holds nothing: only a given one needs the (listing) check.
    if _find(entries, pid) is not None or (given and store.walk(pid)):
        raise ConflictError(f"id {pid!r} is already in use", code="id_taken")

    # Snapshot the manifest first: blobs are written before a manifest names them, so
    # every blob this snapshot names is in the listing made just after -- unless a
    # concurrent remove deleted it in between: then take both again.
    for _attempt in range(5):
        manifest = store.read_versioned(f"{src_id}/{_MANIFEST}").data
        if manifest is not None:
            # Refused like list/add/export: a copy would spread the damage.
            check_manifest(store, src_id, manifest)
        # The manifest is written from this snapshot below, not copied.
        keys = [k for k in store.walk(src_id) if _copied(k) and k != f"{src_id}/{_MANIFEST}"]
        keys = history.current_keys(src_id, manifest, keys)  # a copy starts without history
        if _names_listed(manifest, src_id, keys):
            break
    else:
        raise ConflictError(
            f"profile {src_id!r} keeps changing while being copied; try again", code="conflict"
        )
    entry: Profile = {"id": pid, "name": name, "created": _now(ts)}
    try:
        stage = Stage.begin(store, pid, "duplicate")  # a copy cut short is recognisable
        copy_pool_objects(store, keys, src_id, pid)
        if manifest is not None:
            store.write_bytes(f"{pid}/{_MANIFEST}", manifest)

        def change(current: list[Profile]) -> Profile:
            if _find(current, src_id) is None:
                raise NotFoundError(f"profile {src_id!r} was deleted while being copied")
            if _name_holder(current, name) is not None:
                raise _taken(name)
            if _find(current, pid) is not None:
                raise ConflictError(f"id {pid!r} is already in use", code="id_taken")
            current.append(dict(entry))
            src_name = next((e["name"] for e in current if e["id"] == src_id), src_id)
            history.note(f"duplicated “{src_name}” as “{name}”", action="duplicate", subject=entry)
            return dict(entry)

        registered = _update(store, change)
    except FileNotFoundError as exc:
        store.delete_tree(pid)
        raise ConflictError(
            f"profile {src_id!r} changed while being copied; try again", code="conflict"
        ) from exc
    except BaseException:
        store.delete_tree(pid)  # leave nothing behind
        raise
    stage.commit()
    return registered


def _copied(key: str) -> bool:
    """Keys a duplicate copies: not the source's copies of damaged documents (its
    evidence, not its data) nor a staging marker an earlier crash left."""
    name = key.rsplit("/", 1)[-1]
    return ".corrupt-" not in name and name != MARKER


def _names_listed(manifest: bytes | None, pool_id: str, keys: list[str]) -> bool:
    """Every blob a manifest names is among the listed keys (unparsable: nothing to
    check, the bytes are copied as they are)."""
    if manifest is None:
        return True
    try:
        doc = json.loads(manifest.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return True
    slots = doc.get("slots") if isinstance(doc, dict) else None
    listed = set(keys)
    for slot in slots if isinstance(slots, list) else []:
        for field in ("image", "mask"):
            value = slot.get(field) if isinstance(slot, dict) else None
            if isinstance(value, str) and value and f"{pool_id}/{value}" not in listed:
                return False
    return True


def _suffixed(base: str, n: int) -> str:
    tail = f" ({n})"
    return base[: NAME_MAX - len(tail)].rstrip() + tail


def register_profile(store: Store, pid: str, name: str, *, ts: float | None = None) -> Profile:
    """Add an entry for pool data already written (import/copy): a colliding name gets
    ' (2)', ' (3)', ... Returns the entry as stored."""
    check_id(pid, "profile id")
    base = clean_name(name)
    created = _now(ts)

    def change(entries: list[Profile]) -> Profile:
        if _find(entries, pid) is not None:
            raise ConflictError(f"a profile with id {pid!r} already exists", code="id_taken")
        candidate, n = base, 2
        while _name_holder(entries, candidate) is not None:
            candidate = _suffixed(base, n)
            n += 1
        entry = {"id": pid, "name": candidate, "created": created}
        entries.append(entry)
        history.note(f"added profile “{candidate}” (import or copy)", action="add", subject=entry)
        return dict(entry)

    return _update(store, change)
