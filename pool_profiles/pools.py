"""Pools: `<id>/manifest.json` + blobs. CONTRACT STUB — helper fills in.

manifest: {"active": int, "next_seq": int, "slots": [{"image": name, "mask": name|None,
"label": str, "added": float, ...unknown keys kept}]}"""

from __future__ import annotations

from typing import Any

from .imaging import ImageLimits
from .store import Store

MANIFEST = "manifest.json"

Manifest = dict[str, Any]


def read_manifest(store: Store, pool_id: str) -> Manifest:
    """The manifest (missing: rebuilt from blobs present, or empty). Corrupt: quarantined
    copy + CorruptDataError. Blob names in it are checked (check_blob_name)."""
    raise NotImplementedError


def pool_view(store: Store, pool_id: str) -> dict[str, Any]:
    """JSON for GET /grid_pool/list: {"pool_id", "active", "count", "slots": [{"index",
    "image", "mask", "label", "added", "has_mask"}]}."""
    raise NotImplementedError


def add_image(
    store: Store,
    pool_id: str,
    data: bytes,
    *,
    label: str | None = None,
    ts: float | None = None,
    limits: ImageLimits | None = None,
) -> dict[str, Any]:
    """Validate, store the blob under a fresh unique name, make its thumbnail, append a
    slot (which becomes active). Returns the slot dict with "index"."""
    raise NotImplementedError


def remove_slot(store: Store, pool_id: str, index: int) -> Manifest:
    raise NotImplementedError


def set_active(store: Store, pool_id: str, index: int) -> Manifest:
    raise NotImplementedError


def set_label(store: Store, pool_id: str, index: int, label: str) -> Manifest:
    raise NotImplementedError


def reorder(store: Store, pool_id: str, order: list[int]) -> Manifest:
    """`order` must be a permutation of range(count); the active slot follows its image."""
    raise NotImplementedError


def set_mask(store: Store, pool_id: str, index: int, mask: bytes | None) -> Manifest:
    """Store a normalised mask for one slot (None clears it)."""
    raise NotImplementedError


def resolve_index(manifest: Manifest, index: int) -> int | None:
    """-1: the active slot; otherwise clamped to [0, count-1]; None for an empty pool."""
    raise NotImplementedError


def check_blob_name(name: object) -> str:
    """A blob name read from a request or any manifest: a plain file name, no path."""
    raise NotImplementedError


def read_blob(store: Store, pool_id: str, name: str) -> bytes:
    raise NotImplementedError


def blob_key(pool_id: str, name: str) -> str:
    """Store key of a blob (both parts checked)."""
    raise NotImplementedError


def thumbnail(store: Store, pool_id: str, name: str) -> bytes:
    """The stored thumbnail of an image blob, made (once) if missing."""
    raise NotImplementedError


def change_token(store: Store, pool_id: str, index: int) -> str:
    """For IS_CHANGED: one manifest read; changes when the chosen slot, its image, its
    mask or its label changes."""
    raise NotImplementedError
