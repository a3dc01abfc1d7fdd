"""The zip layout shared by export and import, and manifest helpers used by copy and
check too."""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from .. import pools

Progress = Callable[[int, int], None]  # (done, total) in members or bytes

META_NAME = "profile_meta.json"
POOL_DIR = "pool/"
MANIFEST_MEMBER = POOL_DIR + pools.MANIFEST
THUMBS_DIR = POOL_DIR + "thumbs/"
CHUNK = 1 << 20
FALLBACK_NAME = "Imported profile"

# Documents are small; these caps apply on top of ImportLimits.
MAX_META_BYTES = 64 * 1024
MAX_MANIFEST_BYTES = 32 * 1024 * 1024
# Below this size a high ratio is harmless (a tiny JSON of repeated keys compresses well).
RATIO_MIN_BYTES = 1024 * 1024

#: What zipfile raises for a damaged or hostile zip (an unknown version: NotImplementedError;
#: offsets past the start of the file: ValueError).
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError)

# Already-compressed formats are stored: deflating PNGs costs time and saves nothing.
DEFLATE_EXTS = (".json", ".txt")


@dataclass(frozen=True)
class ImportLimits:
    max_members: int = 10_000
    max_member_bytes: int = 256 * 1024 * 1024
    max_total_bytes: int = 4 * 1024 * 1024 * 1024
    max_ratio: float = 200.0  # uncompressed / compressed per member


# -- shared with transfer/check ------------------------------------------------


def referenced_blobs(manifest: dict[str, Any]) -> list[str]:
    """Image and mask names a manifest uses, in slot order, each once."""
    seen: dict[str, None] = {}
    for slot in manifest.get("slots") or []:
        for field in ("image", "mask"):
            value = slot.get(field) if isinstance(slot, dict) else None
            if value:
                seen.setdefault(value, None)
    return list(seen)


def prune_manifest(
    manifest: dict[str, Any], present: Iterable[str]
) -> tuple[dict[str, Any], list[str]]:
    """A copy of `manifest` without slots whose image is not in `present` and with
    missing masks cleared. The active slot follows its image (or the next one kept).
    Returns (manifest, names that were missing)."""
    present = set(present)
    out = dict(manifest)
    slots = list(manifest.get("slots") or [])
    active = manifest.get("active")
    kept: list[dict[str, Any]] = []
    missing: list[str] = []
    new_active = 0
    for i, slot in enumerate(slots):
        if i == active:
            new_active = len(kept)
        if slot.get("image") not in present:
            missing.append(slot.get("image"))
            continue
        if slot.get("mask") and slot["mask"] not in present:
            missing.append(slot["mask"])
            slot = dict(slot, mask=None)
        kept.append(slot)
    out["slots"] = kept
    if isinstance(active, int) and not isinstance(active, bool):
        out["active"] = min(new_active, max(len(kept) - 1, 0))
    return out, missing


def iter_file(f: IO[bytes], size: int = CHUNK) -> Iterator[bytes]:
    while True:
        chunk = f.read(size)
        if not chunk:
            return
        yield chunk


# -- export --------------------------------------------------------------------
