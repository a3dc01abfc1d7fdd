"""Small images for tests (tests/ is on pytest's pythonpath)."""

from __future__ import annotations

import io

from PIL import Image


def png(color: tuple[int, int, int] = (255, 0, 0), size: tuple[int, int] = (8, 6)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()
