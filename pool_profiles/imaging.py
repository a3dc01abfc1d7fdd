"""Image checks and conversions with Pillow (no torch). CONTRACT STUB — helper fills in."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImageLimits:
    """Bounds checked BEFORE decoding (Pillow only warns between 89 and 179 MP)."""

    max_pixels: int = 64_000_000  # env POOL_PROFILES_MAX_PIXELS overrides (from_env)
    max_bytes: int = 64 * 1024 * 1024  # env POOL_PROFILES_MAX_UPLOAD_BYTES overrides

    @classmethod
    def from_env(cls) -> ImageLimits:
        raise NotImplementedError


@dataclass(frozen=True)
class ImageInfo:
    format: str  # "PNG", "JPEG", "WEBP", ...
    width: int
    height: int
    ext: str  # ".png", ".jpg", ".webp" — the extension the stored blob gets


def inspect_image(data: bytes, limits: ImageLimits | None = None) -> ImageInfo:
    """Check that `data` is one decodable image within limits (size, pixels checked from
    the header before decoding); raise ValidationError / TooLargeError otherwise."""
    raise NotImplementedError


def prepare_for_storage(data: bytes, limits: ImageLimits | None = None) -> tuple[bytes, ImageInfo]:
    """Validate and return (bytes to store, info). Stored losslessly: PNG/JPEG/WEBP bytes are
    kept as uploaded; other formats are converted to PNG."""
    raise NotImplementedError


def make_thumbnail(data: bytes, size: int = 256) -> bytes:
    """A WEBP thumbnail (EXIF orientation applied, longest side <= size)."""
    raise NotImplementedError


def mask_from_upload(data: bytes, limits: ImageLimits | None = None) -> bytes:
    """Normalise an uploaded mask to a grayscale 'L' PNG where 255 = painted. An image
    with alpha (ComfyUI's MaskEditor) is painted where alpha is 0: painted = 255 - alpha;
    otherwise luminance is used directly."""
    raise NotImplementedError
