"""Handing a slot image to ComfyUI's MaskEditor: it only opens files in ComfyUI's own
folders, so the image (from any backend) is copied into input/grid_pool_mask_stage/."""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
import uuid
from typing import Any

STAGE_SUBFOLDER = "grid_pool_mask_stage"
#: Staged copies older than this are removed when the next one is written.
KEEP_SECONDS = 24 * 3600

_EXTS = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff"}


def stage_dir() -> str:
    import folder_paths  # ComfyUI's

    return os.path.join(folder_paths.get_input_directory(), STAGE_SUBFOLDER)


def _cleanup(directory: str, now: float) -> None:
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for n in names:
        p = os.path.join(directory, n)
        try:
            if now - os.path.getmtime(p) > KEEP_SECONDS:
                os.remove(p)
        except OSError:
            pass


def stage_image(data: bytes, filename: str, *, directory: str | None = None) -> dict[str, Any]:
    """Write `data` into the stage folder and return the image reference ComfyUI's
    /view and MaskEditor understand. The file name is made here (content hash + the
    extension of `filename` when it is an image extension), never taken as a path."""
    directory = directory or stage_dir()
    os.makedirs(directory, exist_ok=True)
    ext = os.path.splitext(os.path.basename(str(filename or "")))[1].lower()
    if ext not in _EXTS:
        ext = ".png"
    name = f"pool_{hashlib.sha256(data).hexdigest()[:24]}{ext}"
    path = os.path.join(directory, name)
    if not os.path.exists(path):
        tmp = os.path.join(directory, f".{name}.{uuid.uuid4().hex}.tmp")
        try:
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        finally:
            # Never a half-written copy (a full disk fails mid-write); a removal that
            # fails too must not hide the write's own error.
            with contextlib.suppress(OSError):
                os.remove(tmp)
    now = time.time()
    os.utime(path, (now, now))
    _cleanup(directory, now)
    return {"name": name, "subfolder": STAGE_SUBFOLDER, "type": "input"}
