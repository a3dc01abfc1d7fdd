"""Image defects found by probing the pack (issue 18, item 6): animated images are kept
whole whatever their format and the nodes output the first frame; a palette PNG with
transparency keeps its alpha in the thumbnail; an image over the pixel limit is
refused with a message naming POOL_PROFILES_MAX_PIXELS, never with Pillow's."""

from __future__ import annotations

import io
import json
import struct
import zlib

import pytest
from aiohttp import FormData
from PIL import Image

from pool_profiles import archive, imaging, pools, registry
from pool_profiles.backends import open_store
from pool_profiles.cli import main
from pool_profiles.errors import PoolProfilesError

FRAMES = [(200, 0, 0), (0, 200, 0), (0, 0, 200)]


def animated(fmt: str) -> bytes:
    frames = [Image.new("RGB", (10, 6), c) for c in FRAMES]
    buf = io.BytesIO()
    frames[0].save(buf, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buf.getvalue()


def frames_of(data: bytes) -> int:
    with Image.open(io.BytesIO(data)) as img:
        return getattr(img, "n_frames", 1)


@pytest.fixture
def store(tmp_path):
    return open_store(str(tmp_path / "store"))


# -- animations --------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "ext"), [("GIF", ".gif"), ("PNG", ".png"), ("WEBP", ".webp")])
def test_an_animation_is_stored_whole_as_uploaded(store, fmt, ext):
    data = animated(fmt)
    assert frames_of(data) == 3  # the sample really is animated
    slot = pools.add_image(store, "p", data)
    assert slot["image"].endswith(ext)
    stored = pools.read_blob(store, "p", slot["image"])
    assert stored == data and frames_of(stored) == 3
    # Its thumbnail (what the grid shows) is the first frame.
    with Image.open(io.BytesIO(pools.thumbnail(store, "p", slot["image"]))) as thumb:
        r, g, b = thumb.convert("RGB").getpixel((thumb.width // 2, thumb.height // 2))
    assert r > 150 and g < 60 and b < 60


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP"])
def test_the_node_outputs_the_first_frame_of_an_animation(fmt):
    torch = pytest.importorskip("torch")
    from pool_profiles.nodes import convert

    tensor = convert.decode_image(animated(fmt), 1_000_000)
    assert tuple(tensor.shape) == (1, 6, 10, 3)
    expected = torch.tensor([c / 255 for c in FRAMES[0]])
    assert torch.allclose(tensor[0, 3, 5], expected, atol=0.02)


def test_an_animated_gif_survives_export_and_import(store):
    pid = registry.create_profile(store, "Gifs")["id"]
    data = animated("GIF")
    pools.add_image(store, pid, data, label="moving")
    buf = io.BytesIO()
    archive.export_to_file(store, pid, buf)
    buf.seek(0)
    copy = archive.import_zip(store, buf, name="Gifs again")
    slot = pools.read_manifest(store, copy["id"])["slots"][0]
    assert slot["image"].endswith(".gif") and slot["label"] == "moving"
    assert pools.read_blob(store, copy["id"], slot["image"]) == data


# -- palette transparency ----------------------------------------------------------


def palette_png(transparency) -> bytes:
    """Half opaque green, half transparent red, as a palette PNG."""
    img = Image.new("P", (600, 400), 0)
    img.putpalette([255, 0, 0, 0, 255, 0])
    img.paste(1, (0, 0, 300, 400))
    buf = io.BytesIO()
    img.save(buf, "PNG", transparency=transparency)
    return buf.getvalue()


def quantized_png() -> bytes:
    rgba = Image.new("RGBA", (600, 400), (255, 0, 0, 0))
    rgba.paste((0, 255, 0, 255), (0, 0, 300, 400))
    buf = io.BytesIO()
    rgba.quantize().save(buf, "PNG")  # an RGBA palette: a tRNS chunk of 256 entries
    return buf.getvalue()


def gif_with_transparency() -> bytes:
    img = Image.new("P", (600, 400), 0)
    img.putpalette([255, 0, 0, 0, 255, 0])
    img.paste(1, (0, 0, 300, 400))
    buf = io.BytesIO()
    img.save(buf, "GIF", transparency=0)
    return buf.getvalue()


SAMPLES = {
    "tRNS index": lambda: palette_png(0),
    "tRNS alphas": lambda: palette_png(bytes([0, 255])),
    "quantized RGBA": quantized_png,
    "GIF": gif_with_transparency,
}


def assert_alpha_kept(thumb: bytes) -> None:
    with Image.open(io.BytesIO(thumb)) as img:
        assert img.mode == "RGBA"
        left, right = img.getpixel((10, img.height // 2)), img.getpixel((img.width - 10, 5))
    assert left[3] == 255 and left[1] > 200  # the opaque green half
    assert right[3] == 0  # the transparent half stays transparent


@pytest.mark.parametrize("sample", list(SAMPLES))
def test_a_palette_image_with_transparency_keeps_its_alpha_in_every_thumbnail(store, sample):
    data = SAMPLES[sample]()
    with Image.open(io.BytesIO(data)) as img:
        assert img.mode == "P" and "transparency" in img.info
    assert_alpha_kept(imaging.make_thumbnail(data))
    assert_alpha_kept(imaging.ingest_image(data).thumb)
    # An upload writes its thumbnail; a pool without one (the earlier pack's) gets it lazily.
    slot = pools.add_image(store, "p", data)
    assert_alpha_kept(store.read_bytes(pools.thumb_key("p", slot["image"])))
    store.delete(pools.thumb_key("p", slot["image"]))
    assert_alpha_kept(pools.thumbnail(store, "p", slot["image"]))


# -- the pixel limit's message -----------------------------------------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims width x height (no real pixel data)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\0" * 16)) + _chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


# 14000 x 14000 is past Pillow's own ceiling (178956970 pixels): Image.open refuses it
# before our check runs; 9000 x 9000 is ours alone.
PAST_PILLOW, PAST_OURS = (14000, 14000), (9000, 9000)


def assert_names_our_limit(message: str, limit: int = 64_000_000) -> None:
    assert f"POOL_PROFILES_MAX_PIXELS={limit}" in message, message
    assert "178956970" not in message and "decompression bomb" not in message.lower()


@pytest.mark.parametrize("size", [PAST_PILLOW, PAST_OURS])
def test_the_core_names_the_setting(size, monkeypatch):
    monkeypatch.delenv(imaging.ENV_MAX_PIXELS, raising=False)
    data = png_header(*size)
    for fn in (imaging.inspect_image, imaging.make_thumbnail, imaging.mask_from_upload):
        with pytest.raises(PoolProfilesError) as err:
            fn(data)
        assert err.value.code == "too_many_pixels"
        assert_names_our_limit(err.value.message)
        assert str(size[0] * size[1]) in err.value.message


def test_a_setting_above_pillows_ceiling_says_so(monkeypatch):
    monkeypatch.setenv(imaging.ENV_MAX_PIXELS, "500000000")
    with pytest.raises(PoolProfilesError) as err:
        imaging.inspect_image(png_header(*PAST_PILLOW))
    message = err.value.message
    assert "POOL_PROFILES_MAX_PIXELS=500000000" in message
    assert "Pillow refuses more than 178956970 pixels" in message


@pytest.mark.parametrize("size", [PAST_PILLOW, PAST_OURS])
def test_the_node_names_the_setting(size):
    pytest.importorskip("torch")
    from pool_profiles.nodes import convert

    with pytest.raises(PoolProfilesError) as err:
        convert.decode_image(png_header(*size), 64_000_000)
    assert_names_our_limit(err.value.message)


@pytest.mark.asyncio
@pytest.mark.parametrize("size", [PAST_PILLOW, PAST_OURS])
async def test_the_route_names_the_setting(client, store, size, monkeypatch):
    monkeypatch.delenv(imaging.ENV_MAX_PIXELS, raising=False)
    form = FormData()
    form.add_field("pool_id", "p")
    form.add_field("image", png_header(*size), filename="big.png", content_type="image/png")
    resp = await client.post("/grid_pool/add", data=form)
    assert 400 <= resp.status < 500
    body = await resp.json()
    assert body["code"] == "too_many_pixels"
    assert_names_our_limit(body["error"])
    assert pools.read_manifest(store, "p")["slots"] == []  # nothing stored


@pytest.mark.parametrize("size", [PAST_PILLOW, PAST_OURS])
def test_the_cli_names_the_setting(tmp_path, capsys, size, monkeypatch):
    monkeypatch.delenv(imaging.ENV_MAX_PIXELS, raising=False)
    monkeypatch.delenv("POOL_PROFILES_STORE", raising=False)
    big = tmp_path / "big.png"
    big.write_bytes(png_header(*size))
    root = str(tmp_path / "cli-store")
    assert main(["--store", root, "profiles", "create", "P", "--json"]) == 0
    pid = json.loads(capsys.readouterr().out)["id"]
    assert main(["--store", root, "pool", "add", "P", str(big)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("pool-profiles: error:") and len(err.splitlines()) == 1
    assert_names_our_limit(err)
    assert pools.read_manifest(open_store(root), pid)["slots"] == []


def test_a_palette_with_alpha_but_no_transparency_key_keeps_it():
    rgba = Image.new("RGBA", (600, 400), (255, 0, 0, 0))
    rgba.paste((0, 255, 0, 255), (0, 0, 300, 400))
    pal = rgba.quantize()
    assert pal.mode == "P" and "transparency" not in pal.info and pal.palette.mode == "RGBA"
    assert_alpha_kept(imaging._thumbnail_of(pal, 256))
