"""Image checks and conversions with Pillow (no torch).

Every entry point bounds bytes and pixels from the header BEFORE anything is decoded:
Pillow only warns between ~89 and ~179 MP and then decodes, so a tiny PNG can claim a
12000x12000 canvas and cost gigabytes. Only a short list of raster formats is opened
(EPS, for one, would run Ghostscript)."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from .decode_budget import BUDGET, BYTES_PER_PIXEL
from .errors import ConfigError, TooLargeError, ValidationError

log = logging.getLogger("pool_profiles.imaging")

ENV_MAX_PIXELS = "POOL_PROFILES_MAX_PIXELS"
ENV_MAX_BYTES = "POOL_PROFILES_MAX_UPLOAD_BYTES"
ENV_DECODE_BUDGET = "POOL_PROFILES_DECODE_BUDGET_BYTES"

#: Longest side of a stored thumbnail.
THUMB_SIZE = 256

#: Formats we open at all. PNG/JPEG/WEBP/GIF are stored as uploaded (an animated one
#: whole: the grid and the nodes use its first frame), BMP and TIFF become PNG.
ALLOWED_FORMATS = ("PNG", "JPEG", "MPO", "WEBP", "GIF", "BMP", "TIFF")
_KEEP_AS_IS = {"PNG": ".png", "JPEG": ".jpg", "MPO": ".jpg", "WEBP": ".webp", "GIF": ".gif"}
# Modes PNG can hold; anything else (CMYK, YCbCr, F, ...) is converted first.
_PNG_MODES = {"1", "L", "LA", "I;16", "P", "RGB", "RGBA"}


@dataclass(frozen=True)
class ImageLimits:
    """Bounds checked BEFORE decoding (Pillow only warns between 89 and 179 MP)."""

    max_pixels: int = 64_000_000  # env POOL_PROFILES_MAX_PIXELS overrides (from_env)
    max_bytes: int = 64 * 1024 * 1024  # env POOL_PROFILES_MAX_UPLOAD_BYTES overrides
    # Bytes of decoded pixels this process holds at once (see decode_budget); None:
    # one image at the pixel limit. Env POOL_PROFILES_DECODE_BUDGET_BYTES overrides.
    decode_budget: int | None = None

    @classmethod
    def from_env(cls) -> ImageLimits:
        """Defaults overridden by the environment; a bad value is a ConfigError (a typo
        must not silently switch the protection off)."""
        budget = _env_int(ENV_DECODE_BUDGET, 0) or None
        return cls(
            max_pixels=_env_int(ENV_MAX_PIXELS, cls.max_pixels),
            max_bytes=_env_int(ENV_MAX_BYTES, cls.max_bytes),
            decode_budget=budget,
        )

    def budget_bytes(self) -> int:
        return self.decode_budget or self.max_pixels * BYTES_PER_PIXEL


def _env_int(var: str, default: int) -> int:
    raw = os.environ.get(var)
    if raw is None or not raw.strip():
        return default
    text = raw.strip().replace("_", "")
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{var}={raw!r} is not a whole number") from None
    if value <= 0:
        raise ConfigError(f"{var}={raw!r} must be positive")
    return value


@dataclass(frozen=True)
class ImageInfo:
    format: str  # "PNG", "JPEG", "WEBP", ...
    width: int
    height: int
    ext: str  # ".png", ".jpg", ".webp" — the extension the stored blob gets


def pixel_limit_message(pixels: int, limit: int, size: tuple[int, int] | None = None) -> str:
    """The one sentence for an image over the pixel limit: it names the setting that
    raises it (never Pillow's own message, which names Pillow's ceiling)."""
    shown = f"{size[0]}x{size[1]} = {pixels}" if size else str(pixels)
    text = f"image is {shown} pixels; the limit is {ENV_MAX_PIXELS}={limit}"
    ceiling = 2 * (Image.MAX_IMAGE_PIXELS or 0)
    if ceiling and limit >= pixels > ceiling:  # the setting allows it, Pillow does not
        text += f" (Pillow refuses more than {ceiling} pixels whatever the setting)"
    return text


_BOMB_SIZE = re.compile(r"\((\d+) pixels\)")


def bomb_message(exc: Exception, limit: int) -> str:
    """Pillow's DecompressionBombError (its ~179 MP ceiling, hit while reading the
    header) in our words: the pixel count it names, and our setting."""
    found = _BOMB_SIZE.search(str(exc))
    pixels = int(found.group(1)) if found else 2 * (Image.MAX_IMAGE_PIXELS or 0) + 1
    return pixel_limit_message(pixels, limit)


def _formats() -> list[str]:
    # Plugins register lazily; asking Image.open for one not registered is a KeyError.
    Image.init()
    return [f for f in ALLOWED_FORMATS if f in Image.OPEN]


def _limits(limits: ImageLimits | None) -> ImageLimits:
    return limits if limits is not None else ImageLimits.from_env()


def _open_checked(data: bytes, limits: ImageLimits) -> Image.Image:
    """Open (header only) and check bytes and pixels; nothing is decoded yet."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValidationError("image data must be bytes", code="not_image")
    if len(data) > limits.max_bytes:
        raise TooLargeError(
            f"image is {len(data)} bytes; the limit is {limits.max_bytes}", code="too_large"
        )
    if len(data) == 0:
        raise ValidationError("image is empty", code="not_image")
    try:
        with warnings.catch_warnings():
            # We enforce our own (lower) bound right below; Pillow's warning is noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(bytes(data)), formats=_formats())
    except Image.DecompressionBombError as exc:
        # Pillow's own hard limit (~179 MP) tripped while reading the header.
        raise ValidationError(
            bomb_message(exc, limits.max_pixels), code="too_many_pixels"
        ) from None
    except UnidentifiedImageError:
        raise ValidationError(
            "not a supported image (PNG, JPEG, WEBP, GIF, BMP or TIFF)", code="not_image"
        ) from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ValidationError(f"not a readable image ({exc})", code="not_image") from None
    width, height = img.size
    if width <= 0 or height <= 0:
        img.close()
        raise ValidationError("image has no pixels", code="not_image")
    if width * height > limits.max_pixels:
        img.close()
        raise ValidationError(
            pixel_limit_message(width * height, limits.max_pixels, (width, height)),
            code="too_many_pixels",
        )
    return img


def _decode(img: Image.Image, limit: int) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img.load()
    except Image.DecompressionBombError as exc:
        raise ValidationError(bomb_message(exc, limit), code="too_many_pixels") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ValidationError(f"image does not decode ({exc})", code="not_image") from None


_DRAFT_FORMATS = ("JPEG", "MPO")
# EXIF orientation -> the transpose that shows the image upright (as ImageOps.exif_transpose).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# Modes a thumbnail is reduced in before conversion (the conversion then costs little).
_RESIZE_FIRST = {"RGB", "RGBA", "L", "LA"}


@contextlib.contextmanager
def _decoded(
    data: bytes, limits: ImageLimits, *, draft: int | None = None, copies: int = 1
) -> Iterator[tuple[Image.Image, ImageInfo]]:
    """Open, check, and decode once, holding the decode budget (see decode_budget) while
    the pixels are alive. `draft`: a JPEG may decode at a reduced scale with both sides
    >= draft (every byte of it is still decoded: a damaged file still fails). `copies`:
    full-size copies the caller will make (a conversion), counted in the budget."""
    img = _open_checked(data, limits)
    with img:
        fmt = (img.format or "").upper()
        info = ImageInfo(fmt, img.width, img.height, _KEEP_AS_IS.get(fmt, ".png"))
        if draft and fmt in _DRAFT_FORMATS:
            img.draft("RGB", (draft, draft))
        cost = img.width * img.height * BYTES_PER_PIXEL * max(1, copies)
        with BUDGET.hold(cost, limits.budget_bytes()):
            # Safe now: pixels are bounded. Catches truncated files.
            _decode(img, limits.max_pixels)
            yield img, info


def inspect_image(data: bytes, limits: ImageLimits | None = None) -> ImageInfo:
    """Check that `data` is one decodable image within limits (size, pixels checked from
    the header before decoding); raise ValidationError / TooLargeError otherwise."""
    with _decoded(data, _limits(limits)) as (_img, info):
        return info


def _transparent(img: Image.Image) -> bool:
    """Whether a thumbnail or conversion must keep an alpha channel: an alpha band, a
    transparent colour or palette entries (tRNS, GIF), or a palette with alpha of its
    own (Pillow keeps one without a "transparency" key, e.g. a quantized RGBA image)."""
    if "A" in img.getbands() or "transparency" in img.info:
        return True
    palette = img.palette if img.mode == "P" else None
    return palette is not None and palette.mode == "RGBA"


def _high_depth_to_png_mode(img: Image.Image) -> Image.Image:
    """32-bit integer and float images (TIFF) have no PNG mode: 16-bit grey when the
    values fit (lossless), else the value range stretched to 8-bit grey."""
    if img.mode not in ("I", "F") and not img.mode.startswith("I;32"):
        return img
    if img.mode != "F":
        img = img.convert("I")
    lo, hi = img.getextrema()
    if img.mode == "I" and lo >= 0 and hi <= 0xFFFF:
        return img.convert("I;16")
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    return img.point(lambda v: v * scale - lo * scale).convert("L")


def _as_png(img: Image.Image) -> bytes:
    frame = _high_depth_to_png_mode(img)
    if frame.mode not in _PNG_MODES:
        frame = frame.convert("RGBA" if _transparent(frame) else "RGB")
    out = io.BytesIO()
    frame.save(out, "PNG")
    return out.getvalue()


def _stored_bytes(data: bytes, img: Image.Image, info: ImageInfo) -> tuple[bytes, ImageInfo]:
    if info.format in _KEEP_AS_IS:
        return bytes(data), info
    return _as_png(img), ImageInfo("PNG", info.width, info.height, ".png")


def prepare_for_storage(data: bytes, limits: ImageLimits | None = None) -> tuple[bytes, ImageInfo]:
    """Validate and return (bytes to store, info). Stored losslessly: PNG/JPEG/WEBP bytes are
    kept as uploaded; other formats are converted to PNG."""
    with _decoded(data, _limits(limits), copies=2) as (img, info):
        return _stored_bytes(data, img, info)


def _orientation(img: Image.Image) -> int:
    try:
        value = img.getexif().get(0x0112, 1)
    except Exception:  # a broken EXIF block must not cost the thumbnail
        return 1
    return value if isinstance(value, int) else 1


def _thumbnail_of(img: Image.Image, size: int) -> bytes:
    """A WEBP thumbnail of a decoded image (changed in place): reduced first, in the
    image's own mode where it can be, then converted and turned upright (EXIF)."""
    upright = _UPRIGHT.get(_orientation(img))
    mode = "RGBA" if _transparent(img) else "RGB"
    if img.mode not in _RESIZE_FIRST:
        img = img.convert(mode)
    # reducing_gap=1: a box reduce by the whole factor, then bilinear for what is left
    # (< 2x): a seventh of LANCZOS's time at 512 px, alike to the eye at 256 px.
    img.thumbnail((size, size), Image.Resampling.BILINEAR, reducing_gap=1.0)
    thumb = img if img.mode == mode else img.convert(mode)
    if upright is not None:
        thumb = thumb.transpose(upright)
    out = io.BytesIO()
    # method 0: a third of method 4's encode time (1.5 vs 5 ms at 256 px), ~20 % larger.
    thumb.save(out, "WEBP", quality=80, method=0)
    return out.getvalue()


def make_thumbnail(
    data: bytes, size: int = THUMB_SIZE, *, limits: ImageLimits | None = None
) -> bytes:
    """A WEBP thumbnail (EXIF orientation applied, longest side <= size)."""
    if size <= 0:
        raise ValidationError("thumbnail size must be positive")
    with _decoded(data, _limits(limits), draft=size * 2) as (img, _info):
        return _thumbnail_of(img, size)


@dataclass(frozen=True)
class Ingested:
    stored: bytes  # the bytes to store (see prepare_for_storage)
    info: ImageInfo
    thumb: bytes | None  # None: no thumbnail could be made (it is made lazily later)


def ingest_image(
    data: bytes,
    limits: ImageLimits | None = None,
    *,
    thumb_size: int = THUMB_SIZE,
    convert: bool = True,
) -> Ingested:
    """prepare_for_storage and make_thumbnail from ONE decode: what an upload and an
    import member need. A JPEG (stored as uploaded) decodes at thumbnail scale.
    `convert=False` keeps the bytes whatever the format (an import stores members as
    they are): only the checks and the thumbnail."""
    copies = 2 if convert else 1
    with _decoded(data, _limits(limits), draft=thumb_size * 2, copies=copies) as (img, info):
        if convert:
            stored, stored_info = _stored_bytes(data, img, info)
        else:
            stored, stored_info = bytes(data), info
        try:
            thumb: bytes | None = _thumbnail_of(img, thumb_size)
        except Exception as exc:  # thumbnails are a cache: the image itself is good
            log.warning("no thumbnail for a %s image: %s", info.format, exc)
            thumb = None
    return Ingested(stored, stored_info, thumb)


_16BIT_GREY = ("I", "I;16", "I;16B", "I;16L", "I;16N")


def _has_alpha(img: Image.Image) -> bool:
    return "A" in img.getbands() or (img.mode == "P" and "transparency" in img.info)


def mask_layer(img: Image.Image) -> Image.Image:
    """The painted mask of a decoded image as 'L' (255 = painted), decided from the
    image itself; every path (uploads, the nodes, the MaskEditor image) uses this.
    Alpha carries the mask only when it is not uniformly opaque (ComfyUI's MaskEditor:
    painted = 255 - alpha); otherwise luminance does (our stored masks, and the earlier
    pack's opaque RGBA ones, white = painted)."""
    if _has_alpha(img):
        rgba = img if img.mode in ("RGBA", "LA") else img.convert("RGBA")
        alpha = rgba.getchannel("A")
        if alpha.getextrema() != (255, 255):
            return ImageOps.invert(alpha)
        img = rgba
    if img.mode in _16BIT_GREY:  # 16-bit grey: 0..65535 scaled onto 0..255
        return img.convert("I").point(lambda v: v / 257).convert("L")
    return img if img.mode == "L" else img.convert("L")


def mask_from_upload(data: bytes, limits: ImageLimits | None = None) -> bytes:
    """Normalise an uploaded mask to a grayscale 'L' PNG where 255 = painted (see
    mask_layer for how the image says where it is painted)."""
    with _decoded(data, _limits(limits), copies=2) as (img, _info):
        mask = mask_layer(img)
        out = io.BytesIO()
        mask.save(out, "PNG")
    return out.getvalue()


def image_for_mask_editor(image: bytes, mask: bytes, limits: ImageLimits | None = None) -> bytes:
    """The inverse of mask_from_upload, for ComfyUI's MaskEditor, which reads the painted
    mask from the image's alpha: a PNG of `image` whose alpha is 255 - mask. Stored data
    is data too: both are checked (bytes, pixels from the headers) before anything is
    decoded, then each is decoded once, inside the shared decode budget."""
    lim = _limits(limits)
    img = _open_checked(image, lim)
    with img:
        layer = _open_checked(mask, lim)
        with layer:
            image_px, mask_px = img.width * img.height, layer.width * layer.height
            # Alive at once: the image and its RGBA copy, the mask and its 'L' layer,
            # and up to two image-sized 'L' layers (resized, inverted).
            cost = (2 * image_px + 2 * mask_px) * BYTES_PER_PIXEL + 2 * image_px
            # One hold for both: a second hold inside the first could wait for itself.
            with BUDGET.hold(cost, lim.budget_bytes()):
                _decode(img, lim.max_pixels)
                _decode(layer, lim.max_pixels)
                ImageOps.exif_transpose(img, in_place=True)
                rgba = img.convert("RGBA")
                painted = mask_layer(layer)
                if painted.size != rgba.size:
                    painted = painted.resize(rgba.size, Image.Resampling.NEAREST)
                rgba.putalpha(ImageOps.invert(painted))
                del painted
                out = io.BytesIO()
                rgba.save(out, "PNG")
    return out.getvalue()


# -- datasets (image + caption + mask folders) ------------------------------------

_SWAPS_SIDES = {5, 6, 7, 8}  # EXIF orientations that turn the image by 90 degrees


def upright_size(data: bytes, limits: ImageLimits | None = None) -> tuple[int, int]:
    """(width, height) of an image as shown and as the nodes output it (EXIF orientation
    applied), from its header: nothing is decoded. A mask is painted at this size."""
    lim = _limits(limits)
    img = _open_checked(data, lim)
    with img:
        # A PNG's EXIF comes with its header (eXIf before IDAT); asking Pillow for a
        # PNG's EXIF otherwise decodes the whole image.
        if (img.format or "").upper() == "PNG" and "exif" not in img.info:
            return img.size
        turned = _orientation(img) in _SWAPS_SIDES
        return (img.height, img.width) if turned else img.size


def _is_plain_mask(img: Image.Image, size: tuple[int, int]) -> bool:
    """Already what a dataset mask is: a grey PNG of the image's size, white = painted."""
    return (img.format or "").upper() == "PNG" and img.mode == "L" and img.size == size


def _mask_png(mask: Image.Image) -> bytes:
    out = io.BytesIO()
    mask.save(out, "PNG")
    return out.getvalue()


def mask_for_dataset(
    data: bytes, size: tuple[int, int], limits: ImageLimits | None = None
) -> bytes:
    """A stored mask as a dataset's mask file: a grey PNG of `size` (the image's upright
    size), white = painted. A mask already so is returned as it is, undecoded."""
    lim = _limits(limits)
    img = _open_checked(data, lim)
    with img:
        if _is_plain_mask(img, size):
            return bytes(data)
    with _decoded(data, lim, copies=3) as (img, _info):
        mask = mask_layer(img)
        if mask.size != size:  # as the nodes read it: stretched onto the image
            mask = mask.resize(size, Image.Resampling.BILINEAR)
        return _mask_png(mask)


def mask_from_dataset(
    data: bytes, size: tuple[int, int], limits: ImageLimits | None = None
) -> bytes:
    """A dataset's mask file as a stored mask: it must be exactly `size` (the image's
    upright size: ValidationError code "mask_size" otherwise); decoded once (a damaged
    file fails), kept as it is when already a grey PNG, else read as mask_layer does."""
    with _decoded(data, _limits(limits), copies=2) as (img, _info):
        if img.size != size:
            raise ValidationError(
                f"mask is {img.width}x{img.height}, its image {size[0]}x{size[1]}",
                code="mask_size",
            )
        if _is_plain_mask(img, size):
            return bytes(data)
        return _mask_png(mask_layer(img))
