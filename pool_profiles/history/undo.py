"""Undo and restore for a pool: each is a new change through the same compare-and-swap
(read the manifest with its version, write only if it is still that version), kept in
history like any change, so it can itself be undone (restore the version before it).

Undo takes back the change that made the pool's current state: the newest change
entry whose `after` digest is the current manifest's. A client that names the change
it saw (`expect`, the version its last answer carried) gets a refusal when the pool
has changed since: an undo never takes back a change it was not shown, so it never
loses another instance's concurrent change. Pressing undo again walks further back
(undo entries are skipped, the change before is found by its digest)."""

from __future__ import annotations

import json
from typing import Any

from ..blobs import check_blob_name, manifest_key
from ..documents import BadShape
from ..errors import ConflictError, NotFoundError, ValidationError, VersionConflict
from ..store import Store
from ..store.content import encode_json
from .entries import (
    CHANGE,
    RESTORE,
    UNDO,
    EntryName,
    check_version,
    digest,
    enabled,
    list_entries,
    pool_doc,
    read_entry,
)
from .recording import _Pending, record

_ATTEMPTS = 8


def _refs(doc: dict[str, Any]) -> set[str]:
    names = set()
    for slot in doc.get("slots") or []:
        for field in ("image", "mask"):
            value = slot.get(field) if isinstance(slot, dict) else None
            if value:
                names.add(value)
    return names


def _previous_manifest(store: Store, pool_id: str, entry_doc: bytes | None) -> dict[str, Any]:
    from ..manifest import _normalise, empty_manifest

    if entry_doc is None or entry_doc.strip() == b"null":
        return empty_manifest()
    try:
        return _normalise(json.loads(entry_doc.decode("utf-8")))
    except (ValueError, BadShape) as exc:
        raise ValidationError(f"that version of pool {pool_id!r} is damaged ({exc})") from exc


def _check_blobs(store: Store, pool_id: str, doc: dict[str, Any], what: str) -> None:
    """Every blob the version uses is still stored (one listing), else one sentence."""
    present = {e.name for e in store.listdir(pool_id) if not e.is_dir}
    for name in sorted(_refs(doc)):
        check_blob_name(name)
        if name not in present:
            raise ConflictError(
                f"cannot {what}: its image {name} was collected (no kept version used it "
                "any more); nothing changed",
                code="images_collected",
            )


def _find(names: list[EntryName], version: str, pool_id: str) -> EntryName:
    found = next((n for n in names if n.id == version), None)
    if found is None:
        raise NotFoundError(
            f"pool {pool_id!r} has no version {version!r} (unknown, or pruned from its history)",
            code="unknown_version",
        )
    return found


def _apply(
    store: Store,
    pool_id: str,
    pick: Any,
    what: str,
    kind: str,
) -> tuple[dict[str, Any], str | None]:
    """Read the manifest, let `pick(names, current digest)` choose the entry to go back
    to (or raise), write its previous version only if the manifest is still the one
    read. Retried when a concurrent write won; `pick` decides again each time."""
    from ..manifest import _forget

    doc_ref = pool_doc(pool_id)
    key = manifest_key(pool_id)
    if not enabled():
        raise ConflictError(
            "history is turned off (POOL_PROFILES_HISTORY_VERSIONS=0); nothing to go back to",
            code="history_off",
        )
    for _attempt in range(_ATTEMPTS):
        cur = store.read_versioned(key)
        names = list_entries(store, doc_ref)
        target = pick(names, digest(cur.data) if cur.data is not None else None)
        entry = read_entry(store, doc_ref, target)
        previous = _previous_manifest(store, pool_id, entry.document)
        _check_blobs(store, pool_id, previous, what)
        new = encode_json(previous)
        if cur.data is not None and new == cur.data:
            return previous, None  # already that version: nothing to write
        old_doc = json.loads(cur.data.decode("utf-8")) if cur.data is not None else {}
        old_refs, new_refs = _refs(old_doc) if isinstance(old_doc, dict) else set(), _refs(previous)
        _forget(store, pool_id)
        try:
            store.write_if(key, new, cur.version)
        except VersionConflict:
            continue
        finally:
            _forget(store, pool_id)
        text = entry.description
        pending = _Pending(
            description=(
                f"undid: {text}" if kind == UNDO else f"restored the version before: {text}"
            ),
            action="undo" if kind == UNDO else "restore",
            dropped=sorted(old_refs - new_refs),
            added=sorted(new_refs - old_refs),
            count=len(old_doc.get("slots") or []) if isinstance(old_doc, dict) else None,
        )
        version = record(
            store, doc_ref, cur.data, new, pending, kind=kind, extra={"reverts": target.id}
        )
        return previous, version
    raise ConflictError(
        f"pool {pool_id!r} kept changing; {what} gave up, nothing changed", code="conflict"
    )


def undo(store: Store, pool_id: str, *, expect: str | None = None) -> dict[str, Any]:
    """Take back the change that made pool `pool_id`'s current state. With `expect`
    (the version id of the change, or undo, whose result the caller shows), refuse
    when the pool has changed since. Returns {"manifest", "version", "undone"}."""
    if expect is not None:
        check_version(expect)
    undone: dict[str, Any] = {}

    def pick(names: list[EntryName], current: str | None) -> EntryName:
        if not names:
            raise ConflictError(
                f"nothing to undo: pool {pool_id!r} has no history yet", code="nothing_to_undo"
            )
        if expect is not None:
            seen = _find(names, expect, pool_id)
            if seen.after != current:
                raise ConflictError(
                    "the pool changed since that change (another change came after it); "
                    "nothing was undone — open its history to restore a version",
                    code="undo_stale",
                )
            if seen.kind == CHANGE:
                undone["version"] = seen.id
                return seen
        target = next((n for n in reversed(names) if n.kind == CHANGE and n.after == current), None)
        if target is None:
            raise ConflictError(
                f"nothing to undo: no kept change of pool {pool_id!r} made its current state "
                "(it was made outside history, or its change was pruned)",
                code="nothing_to_undo",
            )
        undone["version"] = target.id
        return target

    manifest, version = _apply(store, pool_id, pick, "undo that change", UNDO)
    return {"manifest": manifest, "version": version, "undone": undone.get("version")}


def restore(store: Store, pool_id: str, version: str) -> dict[str, Any]:
    """Make pool `pool_id` the version kept by history entry `version` (the state just
    before that change). The state it replaces is kept in history too."""
    check_version(version)

    def pick(names: list[EntryName], current: str | None) -> EntryName:
        return _find(names, version, pool_id)

    manifest, written = _apply(store, pool_id, pick, f"restore version {version}", RESTORE)
    return {"manifest": manifest, "version": written, "restored": version}
