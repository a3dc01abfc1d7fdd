"""A pool's manifest: its shape (checked on every read, unknown keys kept), the
rebuild of a missing one from the blobs present, and versioned updates. A corrupt
manifest is kept aside and reported, never rebuilt (that would lose every label)."""

from __future__ import annotations

import logging
import math
import operator
import re
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from . import history
from .blobs import (
    GOOD_NAMES,
    MASK_NAME,
    check_blob_name,
    manifest_key,
)
from .documents import BadShape, parse_document, read_document, update_document
from .errors import NotFoundError, ValidationError
from .store import Store

log = logging.getLogger("pool_profiles.pools")

#: An add writes its blob, then its thumbnail, then the manifest (retried on conflict);
#: a blob younger than this with no manifest may be one such add, not lost data.
IN_FLIGHT_SECONDS = 120.0
MAX_SEQ = 10**9  # next_seq beyond this is reset (it only makes names readable)

Manifest = dict[str, Any]

T = TypeVar("T")


# -- manifest shape ----------------------------------------------------------------


def empty_manifest() -> Manifest:
    return {"active": 0, "next_seq": 1, "slots": []}


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_IMAGE, _MASK, _LABEL, _ADDED = (
    operator.itemgetter(k) for k in ("image", "mask", "label", "added")
)
_NUMBER_TYPES = {int, float}


def _slots_already_good(slots: list[Any]) -> bool:
    """True when every slot is exactly what `_normalise` would leave unchanged: names
    already found good (`check_blob_name`'s memo), a str label, a finite number for
    "added". Each condition is one pass in C over all slots (map, set, sum: 10,000
    slots in ~2 ms, a tenth of a Python loop); on the first doubt (a missing key, an
    odd type, a float sum that is not finite) the full check runs from the start."""
    if not slots:
        return True
    good = GOOD_NAMES
    try:
        if set(map(type, slots)) != {dict}:
            return False
        if not good.issuperset(map(_IMAGE, slots)):
            return False
        masks = set(map(_MASK, slots))
        masks.discard(None)
        if not good.issuperset(masks):
            return False
        if set(map(type, map(_LABEL, slots))) != {str}:
            return False
        added = list(map(_ADDED, slots))
        kinds = set(map(type, added))  # bool is its own type: it fails this, as it should
        if not kinds <= _NUMBER_TYPES:
            return False
        # NaN or an infinity anywhere makes the sum NaN or infinite (so may a sum of
        # huge finite floats: then the full check decides, as it would anyway).
        return float not in kinds or math.isfinite(sum(added))
    except (KeyError, TypeError, OverflowError):  # missing key, unhashable name, huge int
        return False


def _normalise(doc: Any) -> Manifest:
    """Check a parsed manifest in place (names included) and fill defaults; unknown
    keys stay. Structural damage or a bad blob name raises BadShape."""
    if not isinstance(doc, dict) or not isinstance(doc.get("slots"), list):
        raise BadShape('expected {"slots": [...]}')
    for i, slot in enumerate([] if _slots_already_good(doc["slots"]) else doc["slots"]):
        if not isinstance(slot, dict):
            raise BadShape(f"slot {i} is not an object")
        for field in ("image", "mask"):
            value = slot.get(field)
            if field == "mask" and value in (None, ""):
                slot["mask"] = None
                continue
            try:
                check_blob_name(value)
            except ValidationError:
                raise BadShape(f"slot {i} names a bad {field} blob {repr(value)[:80]}") from None
        if not isinstance(slot.get("label"), str):
            slot["label"] = "" if slot.get("label") is None else str(slot["label"])
        added = slot.get("added")
        if not isinstance(added, (int, float)) or isinstance(added, bool):
            slot["added"] = 0
        elif isinstance(added, float) and not math.isfinite(added):
            # NaN/Infinity: Python reads them, browsers do not (an int is finite, and
            # one too large for a float must not crash the check)
            slot["added"] = 0
    if not is_int(doc.get("active")):
        doc["active"] = 0
    # Bounded too: the seq is part of new blob names, which have a length limit.
    if not is_int(doc.get("next_seq")) or not 1 <= doc["next_seq"] < MAX_SEQ:
        doc["next_seq"] = len(doc["slots"]) + 1
    return doc


def copy_manifest(doc: Manifest) -> Manifest:
    """A copy of a checked manifest for a change to mutate (doc_memo.py): its slots one
    level deep, a tenth of a generic deep copy. Enough because changes replace a
    slot's values, never mutate one in place (tests' DocMemo.verify would catch one
    that did: the kept manifest would no longer match its bytes)."""
    out = dict(doc)
    out["slots"] = list(map(dict.copy, doc["slots"]))
    return out


def _rebuild(store: Store, pool_id: str, adding: str | None = None) -> Manifest | None:
    """A manifest from the blobs present (labels lost, masks paired by name), or None
    when the pool holds no images."""
    names = []
    stale = set()  # blobs older than an add in flight: a manifest that named them is gone
    now = time.time()
    for entry in store.listdir(pool_id):
        if entry.is_dir:
            continue
        try:
            names.append(check_blob_name(entry.name))
        except ValidationError:
            continue  # quarantined copies, stray files: not ours to adopt
        if entry.mtime is None or now - entry.mtime > IN_FLIGHT_SECONDS:
            stale.add(entry.name)
    masks = [n for n in names if MASK_NAME.match(n)]
    images = sorted(n for n in names if not MASK_NAME.match(n))
    if not images:
        return None
    slots = []
    for image in images:
        stem = image.rsplit(".", 1)[0]
        exact = f"{stem}.mask.png"
        paired = sorted(m for m in masks if MASK_NAME.match(m).group("stem") == stem)
        mask = exact if exact in paired else (paired[-1] if paired else None)
        slots.append({"image": image, "mask": mask, "label": "", "added": 0})
    seqs = [int(m.group(1)) for m in (re.match(r"img_(\d+)", n) for n in images) if m]
    # Concurrent first adds of a new pool each find the others' fresh blobs and adopt
    # them: that is no damage. Only blobs older than any add in flight mean that a
    # manifest was really lost (or an earlier-pack pool never had one).
    if any(slot["image"] != adding and slot["image"] in stale for slot in slots):
        log.info(
            "pool-profiles: pool %s has no manifest; rebuilt from %d blobs", pool_id, len(slots)
        )
    seqs = [s for s in seqs if s < MAX_SEQ]
    return {"active": 0, "next_seq": max(seqs + [len(slots)]) + 1, "slots": slots}


def read_manifest(store: Store, pool_id: str) -> Manifest:
    """The manifest (missing: rebuilt from blobs present, or empty). Corrupt: quarantined
    copy + CorruptDataError. Blob names in it are checked (check_blob_name)."""
    manifest = read_document(store, manifest_key(pool_id), _normalise)
    if manifest is None:
        return _rebuild(store, pool_id) or empty_manifest()
    return manifest


def check_manifest(store: Store, pool_id: str, data: bytes) -> Manifest:
    """Manifest bytes already read (e.g. a snapshot to copy) checked like a read:
    damaged ones are kept aside and raise CorruptDataError."""
    return parse_document(store, manifest_key(pool_id), data, _normalise)


#: Manifests kept parsed per store (the biggest are a few MB of Python objects).
CACHED_MANIFESTS = 32

_cache_lock = threading.Lock()
# store -> pool id -> (stamp, manifest, time.monotonic() of the check that found it)
_cache: weakref.WeakKeyDictionary[Store, OrderedDict[str, tuple[str, Manifest, float]]] = (
    weakref.WeakKeyDictionary()
)
_writes = 0  # manifest changes begun or ended by this process (see _remember)


def current_manifest(store: Store, pool_id: str, *, checked_within: float = 0.0) -> Manifest:
    """The manifest for reading only (never mutate it: it is shared). Revalidated on
    every call with one small request (a stat, a conditional GET); parsed and checked
    again only when its stamp changed. A missing manifest is not cached.

    `checked_within` > 0: a check made by this process less than that many seconds ago
    (and no change written by it since) is trusted without a request; see
    stamped_manifest."""
    return stamped_manifest(store, pool_id, checked_within=checked_within)[1]


def stamped_manifest(
    store: Store, pool_id: str, *, checked_within: float = 0.0
) -> tuple[str | None, Manifest]:
    """current_manifest and its stamp (Store.read_if_changed; None: no manifest).

    With `checked_within`, a manifest this process checked (a request that found its
    stamp) at most that many seconds ago is returned without asking again: what a
    pool node's run does right after its IS_CHANGED checked the same manifest for the
    same queue (on S3 that is one request per queue, not two). Changes written through
    this process (update_manifest) drop the entry, so they are never missed."""
    key = manifest_key(pool_id)
    with _cache_lock:
        known = _cache.get(store, {}).get(pool_id)
        writes = _writes
    if known is not None and checked_within > 0:
        if time.monotonic() - known[2] <= checked_within:
            return known[0], known[1]
    cur = store.read_if_changed(key, known[0] if known else None)
    now = time.monotonic()
    if cur is None and known is not None:
        _remember(store, pool_id, known[0], known[1], now, writes)
        return known[0], known[1]
    if cur is None or cur.data is None or cur.version is None:
        if known is not None:  # gone (e.g. its profile deleted elsewhere): trust it no more
            with _cache_lock:
                _cache.get(store, {}).pop(pool_id, None)
        return None, read_manifest(store, pool_id)  # missing (rebuilt), or a race
    # Right after this process changed it: the manifest it wrote, not a parse of it.
    manifest = store.kept_document(key, cur.data)
    if manifest is None:
        manifest = parse_document(store, key, cur.data, _normalise)
    _remember(store, pool_id, cur.version, manifest, now, writes)
    return cur.version, manifest


def _remember(
    store: Store, pool_id: str, stamp: str, manifest: Manifest, now: float, writes: int
) -> None:
    with _cache_lock:
        if writes != _writes:
            # This process wrote a manifest while the check was under way: keep the
            # stamp for the next conditional read, but trust no check time.
            now = -math.inf
        pools = _cache.setdefault(store, OrderedDict())
        pools[pool_id] = (stamp, manifest, now)
        pools.move_to_end(pool_id)
        while len(pools) > CACHED_MANIFESTS:
            pools.popitem(last=False)


def _forget(store: Store, pool_id: str) -> None:
    """Drop what is known of a pool's manifest: this process is changing it."""
    global _writes
    with _cache_lock:
        _writes += 1
        pools = _cache.get(store)
        if pools is not None:
            pools.pop(pool_id, None)


def update_manifest(
    store: Store,
    pool_id: str,
    change: Callable[[Manifest], T],
    *,
    must_exist: bool = True,
    adding: Callable[[], str | None] | None = None,
) -> T:
    """Versioned manifest update. A missing manifest starts from the rebuilt one (an
    earlier-pack pool without manifest keeps its images); with `must_exist`, a pool
    with nothing in it is NotFoundError. Corrupt data is quarantined, never replaced.
    `adding()` names a blob this update is adding (written by an earlier attempt)."""

    def default() -> Manifest:
        rebuilt = _rebuild(store, pool_id, adding() if adding else None)
        if rebuilt is None:
            if must_exist:
                raise NotFoundError(f"pool {pool_id!r} has no images")
            return empty_manifest()
        return rebuilt

    _forget(store, pool_id)
    try:
        # History keeps the version this replaces (one more write, after the swap won).
        with history.tracking(store, history.pool_doc(pool_id)) as track:
            return update_document(
                store,
                manifest_key(pool_id),
                _normalise,
                track.change(change),
                track.default(default),
                written=track.written,
                in_place=True,  # _normalise checks the manifest itself
                copy=copy_manifest,
            )
    finally:
        # Written (or perhaps written: a failure after the write): the next read asks.
        _forget(store, pool_id)
