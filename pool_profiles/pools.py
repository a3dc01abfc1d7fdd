"""Pools: `<id>/manifest.json` + blobs.

manifest: {"active": int, "next_seq": int, "slots": [{"image": name, "mask": name|None,
"label": str, "added": float, ...unknown keys kept}]}

Rules that keep concurrent writers and hostile data harmless:
- every manifest change is a `Store.update_json` (versioned, retried);
- blob names are made here and unique per write (`img_<seq>_<uuid8>.<ext>`; the seq
  is cosmetic, not a reservation), so two adds never write the same object;
- a blob is deleted only after the manifest write that dropped it, and only if no
  slot still names it;
- every blob name read from a manifest (ours, the earlier pack's, an imported one) or
  a request passes `check_blob_name` before it becomes a key;
- a missing manifest is rebuilt from the blobs present; a corrupt one is kept aside and
  reported, never rebuilt (that would lose every label)."""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import time
from typing import Any, TypeVar

from . import history
from .blobs import (
    IMAGE_EXTS,
    MANIFEST,
    THUMBS,
    blob_key,
    check_blob_name,
    new_image_name,
    new_mask_name,
    thumb_key,
)
from .errors import NotFoundError, ValidationError
from .ids import check_id, clean_label, new_id
from .imaging import ImageLimits, ingest_image, make_thumbnail, mask_from_upload
from .manifest import (
    Manifest,
    current_manifest,
    is_int,
    read_manifest,
    update_manifest,
)
from .slot_pick import slot_key
from .store import Store

log = logging.getLogger("pool_profiles.pools")

# Re-exported: callers know these as pools.*
__all__ = [
    "IMAGE_EXTS",
    "MANIFEST",
    "THUMBS",
    "blob_key",
    "check_blob_name",
    "current_manifest",
    "thumb_key",
]


T = TypeVar("T")


def _check_index(doc: Manifest, index: object) -> int:
    count = len(doc["slots"])
    if not is_int(index) or not 0 <= index < count:  # type: ignore[operator]
        raise ValidationError(
            f"slot index {index!r} is out of range (pool has {count} slots)", code="bad_index"
        )
    return index  # type: ignore[return-value]


def _find_slot(
    doc: Manifest, index: object, expect: str | None, found: dict[str, int] | None = None
) -> int:
    """The slot a client means: `index`, or, when it names the slot's image (`expect`,
    from the view it clicked in), wherever that image is now: another writer may have
    reordered or removed slots since that view. NotFoundError (code "slot_gone") when
    the image left the pool. The index used goes into `found["index"]`."""
    if expect is None:
        at = _check_index(doc, index)
    else:
        slots = doc["slots"]
        if is_int(index) and 0 <= index < len(slots) and slots[index]["image"] == expect:  # type: ignore[operator]
            at = index  # type: ignore[assignment]
        else:
            at = next((i for i, s in enumerate(slots) if s["image"] == expect), -1)
            if at < 0:
                raise NotFoundError(
                    "that image was removed from the pool meanwhile", code="slot_gone"
                )
    if found is not None:
        found["index"] = at
    return at


def _referenced(doc: Manifest) -> set[str]:
    names = set()
    for slot in doc["slots"]:
        names.add(slot["image"])
        if slot.get("mask"):
            names.add(slot["mask"])
    return names


def _slot_text(slot: dict[str, Any]) -> str:
    """How a history description names a slot: its label, else its image."""
    label = slot.get("label") or ""
    return f"“{label[:40]}”" if label else str(slot.get("image"))


def _drop_unreferenced(store: Store, pool_id: str, doc: Manifest, names: list[str]) -> None:
    """Delete blobs (and thumbnails) the written manifest no longer names."""
    if history.keeps_removed():
        return  # the version that used them is in history; pruning collects them later
    still = _referenced(doc)
    for name in names:
        if not name or name in still:
            continue
        try:
            store.delete(blob_key(pool_id, name))
            store.delete(thumb_key(pool_id, name))
        except Exception as exc:  # an orphan costs space, not correctness
            log.warning("pool-profiles: could not delete %s/%s: %s", pool_id, name, exc)


def _written(holder: dict[str, Manifest]) -> Manifest:
    # The doc just written is ours alone now (update_json parsed it fresh): no copy.
    return holder["doc"]


# -- reading -----------------------------------------------------------------------


def resolve_index(manifest: Manifest, index: int) -> int | None:
    """-1: the active slot; 0..: wraps around the count (slot_pick); None when empty."""
    count = len(manifest.get("slots") or [])
    if count == 0:
        return None
    if is_int(index) and index >= 0:
        return int(index) % count
    active = manifest.get("active")
    return max(0, min(int(active if is_int(active) else 0), count - 1))


def pool_view(store: Store, pool_id: str) -> dict[str, Any]:
    """JSON for GET /grid_pool/list: {"pool_id", "active", "count", "slots": [{"index",
    "image", "mask", "label", "added", "has_mask"}]}."""
    return view_of(pool_id, current_manifest(store, pool_id))


def view_of(pool_id: str, m: Manifest) -> dict[str, Any]:
    """pool_view of a manifest already in hand (e.g. the one a change just wrote)."""
    slots = [
        {
            "index": i,
            "id": slot_key(s),
            "image": s["image"],
            "mask": s.get("mask"),
            "label": s.get("label", ""),
            "added": s.get("added", 0),
            "has_mask": bool(s.get("mask")),
        }
        for i, s in enumerate(m["slots"])
    ]
    active = resolve_index(m, -1)
    return {
        "pool_id": pool_id,
        "active": 0 if active is None else active,
        "count": len(slots),
        "slots": slots,
    }


def read_blob(store: Store, pool_id: str, name: str) -> bytes:
    """The bytes of an image or mask blob; NotFoundError when it is not there."""
    key = blob_key(pool_id, name)
    try:
        return store.read_bytes(key)
    except FileNotFoundError:
        raise NotFoundError(f"pool {pool_id!r} has no blob {name!r}") from None


def thumbnail(store: Store, pool_id: str, name: str) -> bytes:
    """The stored thumbnail of an image blob, made (once) if missing."""
    key = thumb_key(pool_id, name)
    try:
        return store.read_bytes(key)
    except FileNotFoundError:
        pass
    # Earlier-pack pools (and crashed adds) have none yet; blobs are immutable, so a
    # thumbnail made now stays right and racing makers write identical bytes.
    thumb = make_thumbnail(read_blob(store, pool_id, name))
    store.write_bytes(key, thumb)
    return thumb


def change_token(store: Store, pool_id: str, index: int) -> str:
    """For IS_CHANGED: one manifest read; changes when anything a pool node outputs
    changes: the chosen slot, its image, its mask, its label, or the slot count. One
    small request (a stat, a conditional GET) while the manifest is unchanged."""
    m = current_manifest(store, pool_id)
    idx = resolve_index(m, index)
    slot = m["slots"][idx] if idx is not None else {}
    count = len(m["slots"])
    parts = [pool_id, idx, count, slot.get("image"), slot.get("mask"), slot.get("label")]
    return hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()


# -- changing ----------------------------------------------------------------------


def add_image(
    store: Store,
    pool_id: str,
    data: bytes,
    *,
    label: str | None = None,
    ts: float | None = None,
    limits: ImageLimits | None = None,
    written: dict[str, Manifest] | None = None,
) -> dict[str, Any]:
    """Validate, store the blob under a fresh unique name, make its thumbnail, append a
    slot (active only when it is the pool's first). Returns the slot dict with "index";
    `written["doc"]` is then the manifest as written (to answer without reading it)."""
    holder: dict[str, Manifest] = {} if written is None else written
    check_id(pool_id, "pool id")
    label = clean_label(label)
    # One decode (bounded with every other decode of this process: decode_budget)
    # validates, gives the bytes to store and the thumbnail; refuses before any write.
    ingested = ingest_image(data, limits)
    stored, info, thumb = ingested.stored, ingested.info, ingested.thumb
    added = time.time() if ts is None else float(ts)
    named: list[tuple[str, int]] = []  # (blob name, seq), once chosen

    def change(doc: Manifest) -> dict[str, Any]:
        # The manifest this update read gives the blob its seq, and the blob is written
        # then, before the manifest: one read and one write of the manifest in all, and
        # a corrupt pool fails before any byte is stored. A retry keeps the same blob.
        if not named:
            seq = doc["next_seq"]
            named.append((new_image_name(seq, info.ext), seq))
            store.write_bytes(blob_key(pool_id, named[0][0]), stored)
            if thumb is not None:  # else made lazily, like an earlier-pack pool's
                store.write_bytes(thumb_key(pool_id, named[0][0]), thumb)
        name, seq = named[0]
        slots = doc["slots"]
        # A rebuilt manifest (no manifest yet) may already list the blob just written.
        index = next((i for i, s in enumerate(slots) if s["image"] == name), None)
        if index is None:
            slot = {"image": name, "mask": None, "label": label, "added": added}
            slots.append({"id": new_id(), **slot})  # stable identity (slot_pick)
            index = len(slots) - 1
        else:
            slots[index].update(label=label, added=added)
        if len(slots) == 1:
            # Only the first image of an empty pool becomes active: on a shared store
            # one person's add must not change what every other instance outputs.
            doc["active"] = index
        doc["next_seq"] = max(doc["next_seq"], seq + 1)
        history.note(f"added slot {index} ({_slot_text(slots[index])})")
        holder["doc"] = doc
        return {"index": index, **copy.deepcopy(slots[index])}

    try:
        return update_manifest(
            store, pool_id, change, must_exist=False, adding=lambda: named[0][0] if named else None
        )
    except BaseException:
        if named:
            _forget_blob(store, pool_id, named[0][0])
        raise


def _forget_blob(store: Store, pool_id: str, name: str) -> None:
    """Undo a blob whose manifest write failed, unless the write did land after all
    (e.g. a lost response) and the manifest names it."""
    try:
        if name in _referenced(read_manifest(store, pool_id)):
            return
    except Exception:
        pass  # the manifest cannot be read (corrupt or gone): our blob is orphaned
    try:
        store.delete(blob_key(pool_id, name))
        store.delete(thumb_key(pool_id, name))
    except Exception as exc:
        log.warning("pool-profiles: could not remove orphan %s/%s: %s", pool_id, name, exc)


def remove_slot(
    store: Store,
    pool_id: str,
    index: int,
    *,
    expect: str | None = None,
    found: dict[str, int] | None = None,
) -> Manifest:
    """Drop one slot; its blobs go only if no other slot uses them. `expect`, `found`:
    see _find_slot."""
    holder: dict[str, Manifest] = {}

    def change(doc: Manifest) -> list[str]:
        i = _find_slot(doc, index, expect, found)
        slot = doc["slots"].pop(i)
        history.note(
            f"removed slot {i} ({_slot_text(slot)})", dropped=[slot["image"], slot.get("mask")]
        )
        active = doc["active"]
        if active > i:
            active -= 1
        doc["active"] = max(0, min(active, len(doc["slots"]) - 1))
        holder["doc"] = doc
        return [slot["image"], slot.get("mask") or ""]

    dropped = update_manifest(store, pool_id, change)
    _drop_unreferenced(store, pool_id, holder["doc"], dropped)
    return _written(holder)


def set_active(
    store: Store,
    pool_id: str,
    index: int,
    *,
    expect: str | None = None,
    found: dict[str, int] | None = None,
) -> Manifest:
    """`expect`, `found`: see _find_slot (the same for every slot edit)."""
    holder: dict[str, Manifest] = {}

    def change(doc: Manifest) -> None:
        at = doc["active"] = _find_slot(doc, index, expect, found)
        history.note(f"made slot {at} active")
        holder["doc"] = doc

    update_manifest(store, pool_id, change)
    return _written(holder)


def set_label(
    store: Store,
    pool_id: str,
    index: int,
    label: str,
    *,
    expect: str | None = None,
    found: dict[str, int] | None = None,
) -> Manifest:
    text = clean_label(label)
    holder: dict[str, Manifest] = {}

    def change(doc: Manifest) -> None:
        at = _find_slot(doc, index, expect, found)
        doc["slots"][at]["label"] = text
        history.note(
            f"labelled slot {at} “{text[:40]}”" if text else f"cleared the label of slot {at}"
        )
        holder["doc"] = doc

    update_manifest(store, pool_id, change)
    return _written(holder)


def reorder(store: Store, pool_id: str, order: list[int]) -> Manifest:
    """`order` must be a permutation of range(count); the active slot follows its image."""
    if not isinstance(order, (list, tuple)) or not all(is_int(i) for i in order):
        raise ValidationError("order must be a list of slot indexes", code="bad_order")
    holder: dict[str, Manifest] = {}

    def change(doc: Manifest) -> None:
        count = len(doc["slots"])
        if sorted(order) != list(range(count)):
            raise ValidationError(
                f"order must list each of the {count} slot indexes exactly once",
                code="bad_order",
            )
        active = resolve_index(doc, -1)
        doc["slots"] = [doc["slots"][i] for i in order]
        doc["active"] = list(order).index(active) if active is not None else 0
        history.note("reordered slots")
        holder["doc"] = doc

    update_manifest(store, pool_id, change)
    return _written(holder)


def set_mask(
    store: Store,
    pool_id: str,
    index: int,
    mask: bytes | None,
    *,
    limits: ImageLimits | None = None,
    expect: str | None = None,
    found: dict[str, int] | None = None,
) -> Manifest:
    """Store a normalised mask for one slot (None clears it). `expect`, `found`: see
    _find_slot; without `expect`, the mask follows the image slot `index` shows now."""
    check_id(pool_id, "pool id")
    new_name: str | None = None
    image = expect  # the image the mask was painted on
    if mask is not None:
        png = mask_from_upload(mask, limits)
        if image is None:
            current = current_manifest(store, pool_id)  # fail early, before writing a blob
            if not current["slots"]:
                raise NotFoundError(f"pool {pool_id!r} has no images")
            image = current["slots"][_check_index(current, index)]["image"]
        new_name = new_mask_name(image)  # unique per write: masks never overwrite
        store.write_bytes(blob_key(pool_id, new_name), png)
    holder: dict[str, Manifest] = {}

    def change(doc: Manifest) -> str:
        slots = doc["slots"]
        # A concurrent reorder/remove may have moved the slot: the mask follows its image.
        slot = slots[_find_slot(doc, index, image, found)]
        old = slot.get("mask") or ""
        slot["mask"] = new_name
        where = slots.index(slot)
        what = "set the mask of" if new_name else "cleared the mask of"
        history.note(f"{what} slot {where} ({_slot_text(slot)})", dropped=[old], added=[])
        holder["doc"] = doc
        return old

    try:
        old = update_manifest(store, pool_id, change)
    except BaseException:
        if new_name:
            _forget_blob(store, pool_id, new_name)
        raise
    _drop_unreferenced(store, pool_id, holder["doc"], [old])
    return _written(holder)
