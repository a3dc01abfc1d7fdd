"""Copying one pool into a new, empty pool id (what copy-paste of a pool node means).

Blobs are immutable (a change writes a new name), so the copy shares nothing mutable
with the source: every object is copied inside the store (server-side where the backend
can), then the manifest snapshot is written last, so a reader of the target sees either
nothing or a complete pool. The copy is staged (staging.POOL_COPY): its marker goes
first and is removed last, so a copy a crash or a failing store cut short is found by
`check` and removed by `--repair`, never taken for the node's own pool."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from . import history
from .blobs import MANIFEST, copy_pool_objects
from .errors import ConflictError, PoolProfilesError
from .ids import check_id
from .staging import MARKER, POOL_COPY, Stage
from .store import Store

_ATTEMPTS = 5


def _names_listed(manifest: bytes | None, pool_id: str, keys: list[str]) -> bool:
    """Every blob the manifest names is among the listed keys (an unparsable manifest
    has nothing to check: its bytes are copied as they are)."""
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


def _snapshot(store: Store, source: str) -> tuple[bytes | None, list[str]]:
    # Manifest first, listing after: blobs are written before a manifest names them, so
    # every name in the snapshot is listed -- unless a concurrent remove deleted one in
    # between; then take both again.
    for _attempt in range(_ATTEMPTS):
        manifest = store.read_versioned(f"{source}/{MANIFEST}").data
        # Not a marker an earlier crash left in the source: the copy has its own.
        skip = (f"{source}/{MANIFEST}", f"{source}/{MARKER}")
        # Nor its history: the copy starts its own from its first change.
        keys = [k for k in store.walk(source) if k not in skip]
        keys = history.current_keys(source, manifest, keys)
        if _names_listed(manifest, source, keys):
            return manifest, keys
    raise ConflictError(
        f"pool {source!r} keeps changing while being copied; try again", code="conflict"
    )


def _discard(store: Store, target: str) -> None:
    """Remove a failed copy. When the store fails that too, the copy's marker says what
    is left (check reports it), and the caller hears the first error, not this one."""
    with contextlib.suppress(PoolProfilesError):
        store.delete_tree(target)


def copy_pool(store: Store, source: str, target: str) -> dict[str, Any]:
    """Fill the empty pool `target` with a copy of `source`'s slots, masks, labels and
    thumbnails. Returns {"source", "target", "copied": number of objects}. A target that
    already holds anything is refused (ConflictError, nothing changed); a failure leaves
    no partial target behind."""
    check_id(source, "source pool id")
    check_id(target, "target pool id")
    if source == target:
        raise ConflictError("a pool cannot be copied onto itself", code="same_pool")
    if store.walk(target):
        raise ConflictError(f"pool {target!r} is not empty", code="target_not_empty")
    manifest, keys = _snapshot(store, source)
    if manifest is None and not keys:
        return {"source": source, "target": target, "copied": 0}  # nothing to stage
    try:
        stage = Stage.begin(store, target, POOL_COPY)
        copy_pool_objects(store, keys, source, target)
        if manifest is not None:
            store.write_bytes(f"{target}/{MANIFEST}", manifest)
        # No registry entry says a node pool is complete: removing the marker does.
        stage.commit(required=True)
    except FileNotFoundError as exc:
        _discard(store, target)
        raise ConflictError(
            f"pool {source!r} changed while being copied; try again", code="conflict"
        ) from exc
    except BaseException:
        _discard(store, target)  # leave nothing behind
        raise
    return {"source": source, "target": target, "copied": len(keys) + (manifest is not None)}
