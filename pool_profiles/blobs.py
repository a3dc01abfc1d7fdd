"""Names and keys of a pool's objects. Blob names are made here, unique per write,
and every name read from a request or from any manifest (ours, the earlier pack's,
an imported one) is checked here before it becomes a store key."""

from __future__ import annotations

import re
import uuid

from .errors import ValidationError
from .ids import check_id
from .store import Store

MANIFEST = "manifest.json"
THUMBS = "thumbs"
IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".webp", ".gif")

BLOB_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z")
# Mask blobs: the earlier pack's "<stem>.mask.png" and ours "<stem>.mask-<hex>.png".
MASK_NAME = re.compile(r"^(?P<stem>.+)\.mask(?:-[0-9a-f]+)?\.png$", re.IGNORECASE)


# Names Windows treats as devices whatever the extension ("CON.png" is the console).
_DEVICE_NAMES = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"{d}{i}" for d in ("COM", "LPT") for i in range(10)]
)


# Names already found good: every manifest read checks every slot's names, and the
# same names come back on every read (a str is immutable, so a hit is the same check).
GOOD_NAMES: set[str] = set()
GOOD_NAMES_MAX = 200_000


def check_blob_name(name: object) -> str:
    """A blob name read from a request or any manifest: a plain file name, no path."""
    if type(name) is str and name in GOOD_NAMES:
        return name
    if (
        not isinstance(name, str)
        or not BLOB_NAME.match(name)
        or ".." in name
        or not name.lower().endswith(IMAGE_EXTS)
        or name.split(".", 1)[0].upper() in _DEVICE_NAMES
    ):
        raise ValidationError(f"bad blob name {repr(name)[:80]}", code="bad_blob_name")
    if len(GOOD_NAMES) >= GOOD_NAMES_MAX:
        GOOD_NAMES.clear()
    GOOD_NAMES.add(name)
    return name


def blob_key(pool_id: str, name: str) -> str:
    """Store key of a blob (both parts checked)."""
    return f"{check_id(pool_id, 'pool id')}/{check_blob_name(name)}"


def manifest_key(pool_id: str) -> str:
    return f"{check_id(pool_id, 'pool id')}/{MANIFEST}"


def thumb_key(pool_id: str, name: str) -> str:
    """Store key of an image blob's thumbnail."""
    return f"{check_id(pool_id, 'pool id')}/{THUMBS}/{check_blob_name(name)}.webp"


# Names this system makes (new_image_name, new_mask_name), unique per write and never
# rewritten in place. The earlier pack reuses fixed names ("img_0001.mask.png",
# opened "wb" when a mask changes), so only ours may share storage with a copy.
_UNIQUE_NAME = re.compile(
    r"^(?:img_\d{4,}_[0-9a-f]{8}(?:\.mask-[0-9a-f]{8})?|mask_[0-9a-f]{32})\.[a-z]+\Z"
)


def is_unique_name(key: str) -> bool:
    """Whether the object at `key` (a pool's blob or thumbnail) is immutable: its name
    was made by this system for one write (thumbnails are ours alone and only ever
    written whole). Such objects may be hard-linked by a copy (Store.copy_objects)."""
    parts = key.split("/")
    if len(parts) >= 2 and parts[-2] == THUMBS and parts[-1].endswith(".webp"):
        return True
    return bool(_UNIQUE_NAME.match(parts[-1]))


def new_image_name(seq: int, ext: str) -> str:
    return f"img_{max(seq, 0):04d}_{uuid.uuid4().hex[:8]}{ext}"


def new_mask_name(image: str) -> str:
    stem = image.rsplit(".", 1)[0]
    name = f"{stem}.mask-{uuid.uuid4().hex[:8]}.png"
    return name if BLOB_NAME.match(name) else f"mask_{uuid.uuid4().hex}.png"


def copy_pool_objects(store: Store, keys: list[str], source: str, target: str) -> int:
    """Copy a pool's objects (`keys`, below `source`) to the same names below `target`
    inside `store`: the immutable ones (is_unique_name) may share storage (hard links on
    local disk), the rest are copied; S3 copies server-side, concurrently."""
    pairs = [(key, target + key[len(source) :]) for key in keys]
    shared = [pair for pair in pairs if is_unique_name(pair[0])]
    copied = [pair for pair in pairs if not is_unique_name(pair[0])]
    return store.copy_objects(shared, immutable=True) + store.copy_objects(copied)
