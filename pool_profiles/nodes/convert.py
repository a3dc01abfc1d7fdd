"""Stored image/mask bytes -> ComfyUI tensors (IMAGE [1,H,W,3], MASK [1,H,W], float32 0..1)."""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image, ImageOps

from .. import imaging
from ..decode_budget import BUDGET, BYTES_PER_PIXEL
from ..errors import PoolProfilesError, TooLargeError
from ..imaging import ImageLimits, mask_layer

_16BIT = ("I", "I;16", "I;16B", "I;16L", "I;16N")


def _open(data: bytes, max_pixels: int) -> Image.Image:
    """Open (header only) and bound the pixels before decoding. An animated GIF, PNG or
    WEBP opens on its first frame, which is what the nodes output (a slot is one image)."""
    try:
        img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:  # Pillow's ceiling, in our words
        raise TooLargeError(imaging.bomb_message(exc, max_pixels)) from None
    w, h = img.size
    if w * h > max_pixels:  # checked from the header, before decoding
        img.close()
        raise TooLargeError(imaging.pixel_limit_message(w * h, max_pixels, (w, h)))
    return img


def to_rgb_array(img: Image.Image, out: np.ndarray | None = None) -> np.ndarray:
    """An HxWx3 float32 array in 0..1 (written into `out` when given). Alpha is dropped
    (colours kept, as ComfyUI's LoadImage does); 16/32-bit grey is scaled from
    0..65535; palette images expand."""
    if img.mode in _16BIT:
        arr = np.asarray(img, dtype=np.float32)
        arr = np.clip(arr / 65535.0, 0.0, 1.0)
        return _into(np.repeat(arr[..., None], 3, axis=2), out)
    if img.mode == "F":
        arr = np.asarray(img, dtype=np.float32)
        arr = np.clip(arr if arr.size == 0 or arr.max() <= 1.0 else arr / 255.0, 0.0, 1.0)
        return _into(np.repeat(arr[..., None], 3, axis=2), out)
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")  # Pillow warns when going straight to RGB
    if img.mode != "RGB":
        img = img.convert("RGB")
    return _unit_float(np.asarray(img), out)


def _into(arr: np.ndarray, out: np.ndarray | None) -> np.ndarray:
    if out is None:
        return arr
    out[...] = arr
    return out


def _unit_float(arr: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """uint8 -> float32 / 255 in one pass into one new array (or `out`): the same
    float32 division as `arr.astype(np.float32) / 255.0` (bit for bit), without a
    second full-size array (16 MP: 192 MB less to allocate and fault in)."""
    if out is None:
        out = np.empty(arr.shape, dtype=np.float32)
    np.divide(arr, np.float32(255.0), out=out, dtype=np.float32)
    return out


def _budget() -> int:
    try:
        return ImageLimits.from_env().budget_bytes()
    except PoolProfilesError:  # a bad setting is reported where limits are read
        return ImageLimits().budget_bytes()


def decode_image(data: bytes, max_pixels: int) -> torch.Tensor:
    with _open(data, max_pixels) as img:
        # Inside the process-wide decode budget (uploads, imports and the list node's
        # parallel decodes share it): Pillow's pixels plus the float32 copy.
        cost = img.width * img.height * (BYTES_PER_PIXEL + 12)
        with BUDGET.hold(cost, _budget()):
            # In place: the image is ours, and without an orientation tag the copy that
            # exif_transpose would make (16 MP: 64 MB) is not made.
            ImageOps.exif_transpose(img, in_place=True)
            arr = to_rgb_array(img)
    return torch.from_numpy(np.ascontiguousarray(arr))[None, ...]


def decode_image_into(data: bytes, max_pixels: int, out: np.ndarray) -> torch.Tensor | None:
    """decode_image written straight into `out` (an H x W x 3 float32 slice of a batch)
    when the image has that size: None. Another size: the tensor decode_image gives."""
    with _open(data, max_pixels) as img:
        cost = img.width * img.height * (BYTES_PER_PIXEL + 12)
        with BUDGET.hold(cost, _budget()):
            ImageOps.exif_transpose(img, in_place=True)
            if img.size == (out.shape[1], out.shape[0]):
                to_rgb_array(img, out)
                return None
            arr = to_rgb_array(img)
    return torch.from_numpy(np.ascontiguousarray(arr))[None, ...]


def decode_mask(data: bytes, width: int, height: int, max_pixels: int) -> torch.Tensor:
    """A stored mask as [1,H,W] (1 = painted), resized to the image if needed. Read
    through imaging.mask_layer: ours are 'L', the earlier pack's opaque RGBA."""
    with _open(data, max_pixels) as img:
        img = mask_layer(img)  # the one decision for every path (alpha or luminance)
        if img.size != (width, height):
            img = img.resize((width, height), Image.Resampling.BILINEAR)
        arr = _unit_float(np.asarray(img))
    return torch.from_numpy(np.ascontiguousarray(arr))[None, ...]


def empty_outputs() -> tuple[torch.Tensor, torch.Tensor]:
    """A 1x1 black image and a zero mask: an empty pool never breaks the graph."""
    return torch.zeros((1, 1, 1, 3), dtype=torch.float32), torch.zeros(
        (1, 1, 1), dtype=torch.float32
    )


def zero_mask(height: int, width: int) -> torch.Tensor:
    """[1,H,W] zeros, writable and contiguous like torch.zeros, from numpy's calloc:
    the pages are zero until written, so a 16 MP mask costs no 64 MB memset."""
    return torch.from_numpy(np.zeros((1, height, width), dtype=np.float32))
