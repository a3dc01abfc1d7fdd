"""Which slot a pool node outputs: a slot's stable identity, the pin the UI writes at
queue time, and the index rule (-1: the active slot; 0..: wraps around the count).

A slot's identity is its `id` (new slots get one; unknown keys are kept by every
writer) or, for slots written by earlier versions and the earlier pack, its image
blob name, which is unique within a pool and never changes with reorder, label or mask.

A pin is `"<identity>"` or `"<identity>|<label when queued>"`: the label only names
the slot in the error when it was deleted before the run."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from .errors import NotFoundError
from .manifest import Manifest, current_manifest, is_int
from .store import Store

#: What an identity may look like (a uuid hex, or a checked blob name).
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,128}\Z")
PIN_LABEL_MAX = 80


class PinnedSlotGone(NotFoundError):
    code = "pinned_slot_gone"


def slot_key(slot: dict[str, Any]) -> str:
    """The slot's stable identity: its `id` when it has a usable one, else its image."""
    sid = slot.get("id")
    if isinstance(sid, str) and KEY_PATTERN.match(sid):
        return sid
    return str(slot.get("image") or "")


def make_pin(slot: dict[str, Any]) -> str:
    label = str(slot.get("label") or "").replace("|", "/")[:PIN_LABEL_MAX]
    key = slot_key(slot)
    return f"{key}|{label}" if label else key


def parse_pin(pin: Any) -> tuple[str, str] | None:
    """(identity, label) of a pin, or None for "no pin" (empty, or not text)."""
    if not isinstance(pin, str) or not pin.strip():
        return None
    key, _, label = pin.strip().partition("|")
    return key.strip(), label.strip()


def _find(slots: list[dict[str, Any]], key: str) -> int | None:
    for i, slot in enumerate(slots):
        if slot_key(slot) == key:
            return i
    # A pin made from a slot's image name still finds it once the slot has an id.
    for i, slot in enumerate(slots):
        if slot.get("image") == key:
            return i
    return None


def wrap_index(index: int, count: int) -> int:
    """An explicit index past the end wraps around: increment walks the pool."""
    return index % count


def pick(manifest: Manifest, index: Any, pin: Any = None, *, pool: str = "") -> int | None:
    """The slot a run outputs (None: empty pool). index >= 0 wraps modulo the count;
    -1 uses the pinned slot when there is a pin (PinnedSlotGone when it was deleted),
    else the active slot."""
    slots = manifest.get("slots") or []
    if not slots:
        if parse_pin(pin) is not None and (not is_int(index) or index < 0):
            raise _gone(parse_pin(pin), pool, 0)  # type: ignore[arg-type]
        return None
    if is_int(index) and index >= 0:
        return wrap_index(int(index), len(slots))
    parsed = parse_pin(pin)
    if parsed is not None:
        found = _find(slots, parsed[0])
        if found is None:
            raise _gone(parsed, pool, len(slots))
        return found
    active = manifest.get("active")
    active = active if is_int(active) else 0
    return max(0, min(int(active), len(slots) - 1))


def _gone(parsed: tuple[str, str], pool: str, count: int) -> PinnedSlotGone:
    key, label = parsed
    name = f"slot {label!r} ({key})" if label else f"slot {key!r}"
    where = f" of pool {pool!r}" if pool else ""
    return PinnedSlotGone(
        f"{name}{where}, the active slot when this run was queued, was deleted before it "
        f"ran ({count} slots left); pick a slot and queue again"
    )


def change_token(store: Store, pool_id: str, index: int, pin: Any = None) -> str:
    """For IS_CHANGED: one manifest read (a stat or a conditional GET while unchanged);
    changes when anything the node outputs changes: the chosen slot and its position,
    its image, mask and label, or the count. A pin to a deleted slot never matches."""
    m = current_manifest(store, pool_id)
    idx = pick(m, index, pin, pool=pool_id)
    slot = m["slots"][idx] if idx is not None else {}
    parts = [pool_id, idx, len(m["slots"]), slot.get("image"), slot.get("mask"), slot.get("label")]
    return hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()
