"""Preparing a slot image for ComfyUI's MaskEditor, which reads the painted mask from
the image's alpha channel (alpha 0 = painted)."""

from __future__ import annotations

import io

from PIL import Image, ImageOps

from ..imaging import inspect_image


def image_with_mask(image: bytes, mask: bytes) -> bytes:
    """PNG of `image` whose alpha is 255 - mask (mask: 'L', 255 = painted)."""
    inspect_image(image)  # pixel bounds before decoding: stored data is data too
    inspect_image(mask)
    with Image.open(io.BytesIO(image)) as im:
        rgba = ImageOps.exif_transpose(im).convert("RGBA")
    with Image.open(io.BytesIO(mask)) as m:
        painted = m.convert("L")
    if painted.size != rgba.size:
        painted = painted.resize(rgba.size, Image.Resampling.NEAREST)
    rgba.putalpha(ImageOps.invert(painted))
    out = io.BytesIO()
    rgba.save(out, "PNG")
    return out.getvalue()
