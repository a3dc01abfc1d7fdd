"""The dataset layout LoRA trainers read (kohya-ss sd-scripts, ai-toolkit): one folder
of images, each with a same-stem `.txt` caption, and `masks/` holding a same-stem PNG
mask (white = painted, the image's size). A pool exports as `NNNN.<ext>` (its slot
index, the original bytes) + `NNNN.txt` (the label; empty when none) + `masks/NNNN.png`
for slots with a mask, and a folder or zip of that shape imports as a new profile."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..registry import Profile

MASKS = "masks"
CAPTION_EXT = ".txt"
MASK_EXT = ".png"
#: Image files a dataset may hold (what the upload accepts).
IMAGE_FILE_EXTS = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff")
#: A caption longer than this is not a caption (labels hold far less anyway).
MAX_CAPTION_BYTES = 64 * 1024
FALLBACK_NAME = "Imported dataset"

FORMAT_PROFILE = "profile"
FORMAT_DATASET = "dataset"
EXPORT_FORMATS = ("zip", FORMAT_DATASET)  # "zip": the profile zip (profile_meta + pool/)


def stem_width(count: int) -> int:
    """Digits of the file stems: 4 (`0000`..`9999`), more for larger pools."""
    return max(4, len(str(max(count - 1, 0))))


def stem_of(index: int, width: int) -> str:
    return f"{index:0{width}d}"


_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple[Any, ...]:
    """`2.png` before `10.png`: digit runs compare as numbers, the rest ignoring case."""
    parts = _DIGITS.split(name)
    return tuple((0, int(p), p) if p.isdigit() else (1, p.casefold(), p) for p in parts)


@dataclass(frozen=True)
class Skipped:
    """A file of a dataset not used (or not wholly), and why."""

    name: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "reason": self.reason}


@dataclass
class DatasetImport:
    """What an import made: the profile's entry and what it left out."""

    profile: Profile
    images: int = 0
    labels: int = 0
    masks: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    format: str = FORMAT_DATASET

    def as_dict(self) -> dict[str, Any]:
        """The profile's entry plus what the import did (the route's and --json's answer)."""
        return {
            **self.profile,
            "format": self.format,
            "images": self.images,
            "labels": self.labels,
            "masks": self.masks,
            "skipped": [s.as_dict() for s in self.skipped],
        }


@dataclass
class DatasetExport:
    """What an export wrote: counts, and slots left out (their image was missing)."""

    images: int = 0
    labels: int = 0
    masks: int = 0
    bytes: int = 0
    missing: list[str] = field(default_factory=list)
