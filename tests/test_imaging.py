"""imaging: limits from the environment, header-first pixel bounds, storage formats,
thumbnails and masks."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from pool_profiles import imaging
from pool_profiles.errors import ConfigError, TooLargeError, ValidationError
from pool_profiles.imaging import ImageLimits


def encode(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def png(size=(8, 6), color=(255, 0, 0)) -> bytes:
    return encode(Image.new("RGB", size, color))


def pixels(img: Image.Image) -> list:
    # getdata() is deprecated in Pillow 12+; getpixel works on every version.
    return [img.getpixel((x, y)) for y in range(img.height) for x in range(img.width)]


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def png_bomb(width: int, height: int, *, full: bool = True) -> bytes:
    """A real, tiny grayscale PNG of width x height zero pixels (about 140 KB for
    12000x12000), or just a header claiming that size (full=False)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    if full:
        comp = zlib.compressobj(9)
        row = b"\x00" * (width + 1)
        idat = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    else:
        idat = zlib.compress(b"\x00" * 16)
    chunks = _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


@pytest.fixture(scope="module")
def bomb_12k() -> bytes:
    return png_bomb(12000, 12000)


# -- limits ------------------------------------------------------------------------


def test_limits_defaults(monkeypatch):
    monkeypatch.delenv(imaging.ENV_MAX_PIXELS, raising=False)
    monkeypatch.delenv(imaging.ENV_MAX_BYTES, raising=False)
    assert ImageLimits.from_env() == ImageLimits()


def test_limits_from_env(monkeypatch):
    monkeypatch.setenv(imaging.ENV_MAX_PIXELS, "1000")
    monkeypatch.setenv(imaging.ENV_MAX_BYTES, " 2048 ")
    assert ImageLimits.from_env() == ImageLimits(max_pixels=1000, max_bytes=2048)


@pytest.mark.parametrize("value", ["abc", "-5", "0", "1.5"])
@pytest.mark.parametrize("var", [imaging.ENV_MAX_PIXELS, imaging.ENV_MAX_BYTES])
def test_limits_bad_env_is_config_error(monkeypatch, var, value):
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError):
        ImageLimits.from_env()


def test_env_limit_applies_when_none_given(monkeypatch):
    monkeypatch.setenv(imaging.ENV_MAX_PIXELS, "10")
    with pytest.raises(ValidationError):
        imaging.inspect_image(png((4, 4)))


# -- inspect -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "ext", "mode"),
    [("PNG", ".png", "RGB"), ("JPEG", ".jpg", "RGB"), ("WEBP", ".webp", "RGB")],
)
def test_inspect_kept_formats(fmt, ext, mode):
    info = imaging.inspect_image(encode(Image.new(mode, (10, 7)), fmt))
    assert (info.format, info.width, info.height, info.ext) == (fmt, 10, 7, ext)


@pytest.mark.parametrize(
    "data",
    [b"", b"hello", b"\x89PNG\r\n\x1a\n" + b"\0" * 40, b"%!PS-Adobe-3.0 EPSF-3.0\n"],
    ids=["empty", "text", "fake-png-magic", "eps"],
)
def test_non_images_rejected(data):
    with pytest.raises(ValidationError) as err:
        imaging.inspect_image(data)
    assert err.value.code == "not_image"


def test_truncated_image_rejected():
    data = png((64, 64))
    with pytest.raises(ValidationError):
        imaging.inspect_image(data[: len(data) // 2])


def test_too_many_bytes_is_too_large():
    with pytest.raises(TooLargeError):
        imaging.inspect_image(png(), ImageLimits(max_bytes=10))


def test_pixel_limit_is_configurable():
    with pytest.raises(ValidationError) as err:
        imaging.inspect_image(png((10, 10)), ImageLimits(max_pixels=99))
    assert err.value.code == "too_many_pixels"
    assert imaging.inspect_image(png((10, 10)), ImageLimits(max_pixels=100)).width == 10


def test_12000_square_png_refused_before_decoding(bomb_12k, monkeypatch):
    # 144 MP: Pillow would only warn and decode it (4 GB). Prove we never decode.
    assert len(bomb_12k) < 300_000

    def no_decode(self, *a, **kw):
        raise AssertionError("decoded a bomb")

    monkeypatch.setattr(Image.Image, "load", no_decode)
    monkeypatch.setattr("PIL.ImageFile.ImageFile.load", no_decode)
    for fn in (imaging.inspect_image, imaging.prepare_for_storage, imaging.make_thumbnail):
        with pytest.raises(ValidationError) as err:
            fn(bomb_12k)
        assert err.value.code == "too_many_pixels"
    with pytest.raises(ValidationError):
        imaging.mask_from_upload(bomb_12k)


@pytest.mark.parametrize("side", [100_000, 2**31 - 1])
def test_gigapixel_headers_rejected(side):
    with pytest.raises(ValidationError):
        imaging.inspect_image(png_bomb(side, side, full=False))


def header_bomb(fmt: str, width: int = 12000, height: int = 12000) -> bytes:
    """A small real image of `fmt` whose header claims width x height (144 MP here:
    between Pillow's warning and its hard limit, so Pillow itself would decode it)."""
    small = Image.new("L" if fmt == "TIFF" else "RGB", (8, 8))
    data = bytearray(encode(small, fmt, **({"lossless": True} if fmt == "WEBP" else {})))
    if fmt == "GIF":  # logical screen and the first frame's descriptor
        struct.pack_into("<HH", data, 6, width, height)
        struct.pack_into("<HH", data, data.index(b"\x2c", 13) + 5, width, height)
    elif fmt == "BMP":
        struct.pack_into("<ii", data, 18, width, height)
    elif fmt == "WEBP":  # VP8L: 14 bits width-1, 14 bits height-1 after the 0x2f signature
        assert data[12:16] == b"VP8L" and data[20] == 0x2F
        bits = struct.unpack_from("<I", data, 21)[0] & ~((1 << 28) - 1)
        struct.pack_into("<I", data, 21, bits | (width - 1) | ((height - 1) << 14))
    elif fmt == "TIFF":  # ImageWidth (256) and ImageLength (257) entries of the first IFD
        (ifd,) = struct.unpack_from("<I", data, 4)
        (count,) = struct.unpack_from("<H", data, ifd)
        for i in range(count):
            at = ifd + 2 + 12 * i
            tag, kind = struct.unpack_from("<HH", data, at)
            if tag in (256, 257):
                value = width if tag == 256 else height
                struct.pack_into("<I" if kind == 4 else "<H", data, at + 8, value)
    return bytes(data)


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "WEBP", "TIFF"])
def test_other_formats_with_huge_headers_refused_before_decoding(fmt, monkeypatch):
    bomb = header_bomb(fmt)
    with pytest.warns(Image.DecompressionBombWarning), Image.open(io.BytesIO(bomb)) as img:
        assert img.size == (12000, 12000)  # the header really claims 144 MP

    def no_decode(self, *a, **kw):
        raise AssertionError("decoded a bomb")

    monkeypatch.setattr(Image.Image, "load", no_decode)
    monkeypatch.setattr("PIL.ImageFile.ImageFile.load", no_decode)
    for fn in (imaging.inspect_image, imaging.prepare_for_storage, imaging.make_thumbnail):
        with pytest.raises(ValidationError) as err:
            fn(bomb)
        assert err.value.code == "too_many_pixels"
    with pytest.raises(ValidationError):
        imaging.mask_from_upload(bomb)


# -- storage -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
def test_prepare_keeps_bytes(fmt):
    data = encode(Image.new("RGB", (5, 5), (1, 2, 3)), fmt)
    stored, info = imaging.prepare_for_storage(data)
    assert stored == data and info.format == fmt


@pytest.mark.parametrize(
    ("fmt", "mode"), [("BMP", "RGB"), ("BMP", "P"), ("TIFF", "CMYK"), ("TIFF", "RGBA")]
)
def test_prepare_converts_other_formats_to_png(fmt, mode):
    src = Image.new(mode, (6, 4))
    stored, info = imaging.prepare_for_storage(encode(src, fmt))
    assert (info.format, info.ext, info.width, info.height) == ("PNG", ".png", 6, 4)
    with Image.open(io.BytesIO(stored)) as out:
        assert out.format == "PNG" and out.size == (6, 4)


def test_prepare_is_lossless_for_converted_pixels():
    src = Image.new("RGB", (3, 2))
    src.putdata([(1, 2, 3), (4, 5, 6), (7, 8, 9), (10, 11, 12), (13, 14, 15), (16, 17, 18)])
    stored, _ = imaging.prepare_for_storage(encode(src, "BMP"))
    with Image.open(io.BytesIO(stored)) as out:
        assert pixels(out.convert("RGB")) == pixels(src)


# -- thumbnails --------------------------------------------------------------------


def test_thumbnail_is_webp_and_bounded():
    thumb = imaging.make_thumbnail(png((1000, 500)), size=128)
    with Image.open(io.BytesIO(thumb)) as img:
        assert img.format == "WEBP" and img.size == (128, 64)


def test_thumbnail_keeps_small_images_small():
    with Image.open(io.BytesIO(imaging.make_thumbnail(png((20, 10))))) as img:
        assert img.size == (20, 10)


def test_thumbnail_applies_exif_orientation():
    src = Image.new("RGB", (40, 20), (0, 128, 255))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° CW on display: 40x20 shows as 20x40
    data = encode(src, "JPEG", exif=exif.tobytes())
    with Image.open(io.BytesIO(imaging.make_thumbnail(data))) as img:
        assert img.size == (20, 40)


def test_thumbnail_keeps_alpha():
    data = encode(Image.new("RGBA", (10, 10), (0, 0, 0, 0)))
    with Image.open(io.BytesIO(imaging.make_thumbnail(data))) as img:
        assert "A" in img.getbands()


# -- masks -------------------------------------------------------------------------


def test_mask_from_alpha_is_inverted_alpha():
    src = Image.new("RGBA", (2, 1))
    src.putdata([(10, 20, 30, 0), (10, 20, 30, 255)])  # transparent = painted
    with Image.open(io.BytesIO(imaging.mask_from_upload(encode(src)))) as out:
        assert out.format == "PNG" and out.mode == "L"
        assert pixels(out) == [255, 0]


def test_mask_partial_alpha():
    src = Image.new("LA", (1, 1), (0, 55))
    with Image.open(io.BytesIO(imaging.mask_from_upload(encode(src)))) as out:
        assert pixels(out) == [200]


def test_mask_without_alpha_uses_luminance():
    src = Image.new("RGB", (2, 1))
    src.putdata([(255, 255, 255), (0, 0, 0)])
    with Image.open(io.BytesIO(imaging.mask_from_upload(encode(src)))) as out:
        assert out.mode == "L" and pixels(out) == [255, 0]


def test_opaque_rgba_mask_uses_luminance():
    # The earlier pack's format: alpha 255 everywhere, white = painted.
    src = Image.new("RGBA", (3, 1), (0, 0, 0, 255))
    src.putpixel((0, 0), (255, 255, 255, 255))
    src.putpixel((2, 0), (128, 128, 128, 255))
    with Image.open(io.BytesIO(imaging.mask_from_upload(encode(src)))) as out:
        assert out.mode == "L" and pixels(out) == [255, 0, 128]


def test_opaque_palette_and_la_masks_use_luminance():
    la = Image.new("LA", (2, 1), (0, 255))
    la.putpixel((1, 0), (255, 255))
    pal = Image.new("P", (2, 1), 0)
    pal.putpalette([0, 0, 0, 255, 255, 255])
    pal.putpixel((1, 0), 1)
    pal.info["transparency"] = bytes([255, 255])  # a tRNS chunk, every entry opaque
    for src in (la, pal):
        with Image.open(io.BytesIO(imaging.mask_from_upload(encode(src)))) as out:
            assert pixels(out) == [0, 255], src.mode


def test_mask_editor_image_reads_an_opaque_rgba_mask_by_luminance():
    src = Image.new("RGBA", (2, 1), (0, 0, 0, 255))
    src.putpixel((0, 0), (255, 255, 255, 255))  # painted
    staged = imaging.image_for_mask_editor(png((2, 1)), encode(src))
    with Image.open(io.BytesIO(staged)) as out:
        assert [p[3] for p in pixels(out.convert("RGBA"))] == [0, 255]


def test_stored_16_bit_mask_is_scaled():
    src = Image.new("I;16", (2, 1), 0)
    src.putpixel((0, 0), 65535)
    with Image.open(io.BytesIO(imaging.mask_from_upload(encode(src)))) as out:
        assert pixels(out) == [255, 0]


def test_mask_rejects_non_images_and_big_uploads():
    with pytest.raises(ValidationError):
        imaging.mask_from_upload(b"not a mask")
    with pytest.raises(TooLargeError):
        imaging.mask_from_upload(png(), ImageLimits(max_bytes=5))


@pytest.mark.parametrize(
    "values, mode",
    [
        (np.arange(16, dtype=np.int32).reshape(4, 4) * 1000, "I;16"),  # fits 16 bits: lossless
        (np.arange(16, dtype=np.int32).reshape(4, 4) * 100000, "L"),  # stretched to 8 bits
        (np.linspace(0, 1, 16, dtype=np.float32).reshape(4, 4), "L"),
    ],
)
def test_high_depth_tiffs_are_stored_as_png(values, mode):
    buf = io.BytesIO()
    Image.fromarray(values).save(buf, "TIFF")
    stored, info = imaging.prepare_for_storage(buf.getvalue())
    with Image.open(io.BytesIO(stored)) as img:
        assert (info.format, img.format, img.mode, img.size) == ("PNG", "PNG", mode, (4, 4))
        px = np.array(img).ravel()
    assert px[0] < px[5] < px[15]  # order of values kept
    if mode == "I;16":
        assert list(px) == list(values.ravel())
