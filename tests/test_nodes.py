"""The two ComfyUI nodes on torch CPU, against every backend (`store` fixture), plus the
ComfyUI adapter and the repo-root entry point with stand-ins for ComfyUI's modules."""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import math
import os
import sys
import types
import uuid

import pytest

torch = pytest.importorskip("torch")
np = pytest.importorskip("numpy")

from PIL import Image, ImageOps  # noqa: E402

from pool_profiles import pools, registry  # noqa: E402
from pool_profiles.errors import PoolProfilesError  # noqa: E402
from pool_profiles.nodes import (  # noqa: E402
    NODE_CLASS_MAPPINGS,
    NODE_DISPLAY_NAME_MAPPINGS,
    GridImagePool,
    PoolProfile,
    runtime,
)
from pool_profiles.nodes.blobcache import uses_cache  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# -- helpers -------------------------------------------------------------------------


def encode(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def rgb_noise(w: int, h: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB")


@pytest.fixture
def node_store(store, tmp_path):
    """The `store` under test injected into the nodes, with a private blob cache."""
    runtime.set_store_provider(lambda: store)
    runtime.set_cache_dir(str(tmp_path / "blob-cache"))
    runtime.set_tensor_cache_bytes(0)  # these tests count reads; test_node_caches has it on
    yield store
    runtime.set_store_provider(None)
    runtime.set_cache_dir(None)
    runtime.set_tensor_cache_bytes(None)


def pool_id() -> str:
    return "pool-" + uuid.uuid4().hex[:8]


def run(**kw):
    kw.setdefault("index", -1)
    return GridImagePool().run(**kw)


# -- GridImagePool outputs -------------------------------------------------------------


def test_mappings():
    assert set(NODE_CLASS_MAPPINGS) == {"GridImagePool", "PoolProfile", "GridImagePoolAll"}
    assert NODE_DISPLAY_NAME_MAPPINGS == {
        "GridImagePool": "Image Pool (Grid)",
        "PoolProfile": "Pool Profile",
        "GridImagePoolAll": "Image Pool (All)",
    }
    spec = GridImagePool.INPUT_TYPES()
    assert spec["required"]["index"][1]["default"] == -1
    assert spec["required"]["index"][1]["min"] == -1
    assert spec["required"]["pool_id"][0] == "STRING"
    assert spec["optional"]["profile"] == ("POOL_PROFILE",)
    assert GridImagePool.RETURN_TYPES == ("IMAGE", "MASK", "INT", "INT", "STRING")
    assert GridImagePool.RETURN_NAMES == ("image", "mask", "index", "count", "label")
    assert PoolProfile.RETURN_TYPES == ("POOL_PROFILE",)
    assert set(PoolProfile.INPUT_TYPES()["required"]) == {"profile", "profile_id"}


def test_image_shape_dtype_and_values(node_store):
    pid = pool_id()
    src = rgb_noise(7, 5)
    pools.add_image(node_store, pid, encode(src), label="seven by five")
    image, mask, idx, count, label = run(pool_id=pid)
    assert image.shape == (1, 5, 7, 3) and image.dtype == torch.float32
    assert mask.shape == (1, 5, 7) and mask.dtype == torch.float32
    expected = np.asarray(src, dtype=np.float32) / 255.0
    assert np.array_equal(image[0].numpy(), expected)
    assert float(image.min()) >= 0.0 and float(image.max()) <= 1.0
    assert not mask.any()
    assert (idx, count, label) == (0, 1, "seven by five")


def test_empty_pool_never_crashes(node_store):
    image, mask, idx, count, label = run(pool_id=pool_id())
    assert image.shape == (1, 1, 1, 3) and image.dtype == torch.float32 and not image.any()
    assert mask.shape == (1, 1, 1) and not mask.any()
    assert (idx, count, label) == (-1, 0, "")
    assert run(pool_id=pool_id(), index=5)[2:] == (-1, 0, "")


def test_index_active_and_wrapping(node_store):
    pid = pool_id()
    for i in range(3):
        pools.add_image(node_store, pid, encode(rgb_noise(4, 4, seed=i)), label=f"s{i}")
    assert run(pool_id=pid, index=-1)[2:] == (0, 3, "s0")  # adds keep the first active
    pools.set_active(node_store, pid, 2)
    assert run(pool_id=pid, index=-1)[2:] == (2, 3, "s2")
    pools.set_active(node_store, pid, 0)
    assert run(pool_id=pid, index=-1)[2:] == (0, 3, "s0")
    assert run(pool_id=pid, index=1)[2:] == (1, 3, "s1")
    # Past the end wraps around (modulo the count): increment walks the pool.
    assert run(pool_id=pid, index=99)[2:] == (0, 3, "s0")
    assert [run(pool_id=pid, index=i)[2] for i in range(2, 7)] == [2, 0, 1, 2, 0]
    image = run(pool_id=pid, index=1)[0]
    expected = np.asarray(rgb_noise(4, 4, seed=1), dtype=np.float32) / 255.0
    assert np.array_equal(image[0].numpy(), expected)


def test_mask_polarity_painted_is_white(node_store):
    pid = pool_id()
    pools.add_image(node_store, pid, encode(rgb_noise(8, 6)))
    # ComfyUI's MaskEditor uploads an RGBA layer: transparent where painted.
    layer = np.full((6, 8, 4), 255, dtype=np.uint8)
    layer[:, :4, 3] = 0  # the left half painted
    pools.set_mask(node_store, pid, 0, encode(Image.fromarray(layer, "RGBA")))
    _, mask, *_ = run(pool_id=pid)
    assert mask.shape == (1, 6, 8)
    assert torch.all(mask[0, :, :4] == 1.0) and torch.all(mask[0, :, 4:] == 0.0)
    pools.set_mask(node_store, pid, 0, None)
    assert not run(pool_id=pid)[1].any()


def earlier_pack_mask(w: int, h: int) -> tuple[bytes, int]:
    """The earlier pack's stored mask: opaque RGBA (alpha 255 everywhere), white =
    painted. Returns (png, painted pixel count)."""
    layer = np.zeros((h, w, 4), dtype=np.uint8)
    layer[..., 3] = 255
    layer[1:4, 2:5, :3] = 255
    return encode(Image.fromarray(layer, "RGBA")), 9


def test_earlier_pack_opaque_rgba_mask_is_read_by_luminance(node_store):
    pid = pool_id()
    node_store.write_bytes(f"{pid}/img_0001.png", encode(rgb_noise(8, 6)))
    mask, painted = earlier_pack_mask(8, 6)
    node_store.write_bytes(f"{pid}/img_0001.mask.png", mask)
    doc = {"active": 0, "slots": [{"image": "img_0001.png", "mask": "img_0001.mask.png"}]}
    node_store.write_bytes(f"{pid}/manifest.json", json.dumps(doc).encode())
    out = run(pool_id=pid)[1]
    assert int((out[0] == 1.0).sum()) == painted and int((out[0] == 0.0).sum()) == 48 - painted
    assert torch.all(out[0, 1:4, 2:5] == 1.0)


def test_mask_resized_to_image(node_store):
    pid = pool_id()
    pools.add_image(node_store, pid, encode(rgb_noise(16, 12)))
    gray = np.zeros((3, 4), dtype=np.uint8)
    gray[:, 2:] = 255  # right half painted, a quarter of the image's size
    pools.set_mask(node_store, pid, 0, encode(Image.fromarray(gray, "L")))
    _, mask, *_ = run(pool_id=pid)
    assert mask.shape == (1, 12, 16)
    assert torch.all(mask[0, :, :6] == 0.0) and torch.all(mask[0, :, 10:] == 1.0)


def test_exif_orientation_applied(node_store):
    pid = pool_id()
    src = rgb_noise(10, 4)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    data = encode(src, "JPEG", quality=95, exif=exif.tobytes())
    pools.add_image(node_store, pid, data)
    image, mask, *_ = run(pool_id=pid)
    with Image.open(io.BytesIO(data)) as raw:
        shown = ImageOps.exif_transpose(raw).convert("RGB")
    assert image.shape == (1, 10, 4, 3) and mask.shape == (1, 10, 4)
    assert np.array_equal(image[0].numpy(), np.asarray(shown, dtype=np.float32) / 255.0)


def load_image_path(data: bytes) -> np.ndarray:
    """ComfyUI's LoadImage on the same bytes: open, EXIF transpose, RGB, float32 / 255."""
    with Image.open(io.BytesIO(data)) as raw:
        shown = ImageOps.exif_transpose(raw).convert("RGB")
    return np.array(shown).astype(np.float32) / 255.0


@pytest.mark.parametrize("orientation", range(1, 9))
def test_decode_is_bit_identical_to_load_image(orientation):
    from pool_profiles.nodes import convert

    # Every byte value, so the float conversion is checked exhaustively, not sampled.
    values = np.arange(256 * 3, dtype=np.uint16).reshape(16, 16, 3) % 256
    src = Image.fromarray(values.astype(np.uint8)[:, :12], "RGB")
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(src, "PNG", exif=exif.tobytes())
    ours = convert.decode_image(data, 10**6)[0].numpy()
    theirs = load_image_path(data)
    assert ours.shape == theirs.shape and ours.dtype == np.float32
    assert np.array_equal(ours.view(np.uint32), theirs.view(np.uint32))


def test_zero_mask_is_a_plain_writable_tensor():
    from pool_profiles.nodes import convert

    mask = convert.zero_mask(5, 7)
    assert mask.shape == (1, 5, 7) and mask.dtype == torch.float32
    assert mask.is_contiguous() and not mask.any()
    mask[0, 1, 2] = 1.0  # writable, and a fresh one each time
    assert not convert.zero_mask(5, 7).any()


def test_modes_converted(node_store):
    pid = pool_id()
    rgba = np.zeros((2, 3, 4), dtype=np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, 0  # fully transparent red: colour kept, alpha dropped
    gray16 = np.array([[0, 65535, 32768]], dtype=np.uint16)
    pal = Image.new("P", (2, 2))
    pal.putpalette([10, 20, 30, 40, 50, 60] + [0] * 762)
    pal.putdata([0, 1, 1, 0])
    pal.info["transparency"] = 0
    cases = [
        (Image.fromarray(rgba, "RGBA"), np.array([200, 0, 0]) / 255.0),
        (Image.new("L", (3, 2), 51), np.array([51, 51, 51]) / 255.0),
        (Image.fromarray(gray16), None),
        (pal, None),
        (Image.new("LA", (2, 2), (90, 10)), np.array([90, 90, 90]) / 255.0),
    ]
    for img, _ in cases:
        pools.add_image(node_store, pid, encode(img))
    for i, (img, colour) in enumerate(cases):
        image = run(pool_id=pid, index=i)[0]
        assert image.dtype == torch.float32 and image.shape[-1] == 3
        assert image.shape[1:3] == (img.height, img.width)
        if colour is not None:
            assert np.allclose(image[0, 0, 0].numpy(), colour, atol=1e-6)
    grey = run(pool_id=pid, index=2)[0][0, 0].numpy()
    assert np.allclose(grey[:, 0], [0.0, 1.0, 32768 / 65535], atol=1e-6)
    assert np.allclose(
        run(pool_id=pid, index=3)[0][0, 0, 1].numpy(), [40 / 255, 50 / 255, 60 / 255]
    )


def test_profile_overrides_pool_id(node_store):
    own, prof = pool_id(), pool_id()
    pools.add_image(node_store, prof, encode(rgb_noise(3, 3)), label="from profile")
    assert run(pool_id=own, profile=prof)[2:] == (0, 1, "from profile")
    assert run(pool_id=own, profile=None)[2:] == (-1, 0, "")
    assert run(pool_id=own, profile="")[2:] == (-1, 0, "")


@pytest.mark.parametrize("bad", ["../etc", "", "a b", "x" * 65])
def test_bad_ids_are_clear_errors(node_store, bad):
    with pytest.raises(PoolProfilesError, match="pool_id|profile id"):
        run(pool_id=bad) if bad else run(pool_id="")
    if bad:
        with pytest.raises(PoolProfilesError, match="profile id"):
            run(pool_id="ok", profile=bad)


# -- PoolProfile -----------------------------------------------------------------------


def test_profile_node_ids(node_store):
    node = PoolProfile()
    registry.create_profile(node_store, "Set A", pid="id1")
    assert node.run(profile="setA", profile_id="id1") == ("id1",)
    # No profile picked: "" -> the connected pool nodes read their own pool.
    assert node.run(profile="", profile_id="") == ("",)
    entry = registry.create_profile(node_store, "Portraits")
    assert node.run(profile="portraits ", profile_id="") == (entry["id"],)  # by name
    with pytest.raises(runtime.PoolNodeError, match=r"no profile named 'Nope'.*'Portraits'"):
        node.run(profile="Nope", profile_id="")
    with pytest.raises(PoolProfilesError, match="profile_id"):
        node.run(profile="", profile_id="../x")


def test_profile_feeds_pool(node_store):
    entry = registry.create_profile(node_store, "Feed")
    (pid,) = PoolProfile().run(profile="Feed", profile_id="")
    pools.add_image(node_store, entry["id"], encode(rgb_noise(2, 2)), label="p")
    assert run(pool_id=pool_id(), profile=pid)[2:] == (0, 1, "p")


# -- IS_CHANGED ------------------------------------------------------------------------


def test_is_changed_tracks_slot_image_mask_label(node_store):
    pid = pool_id()
    pools.add_image(node_store, pid, encode(rgb_noise(4, 4, 1)), label="a")
    pools.add_image(node_store, pid, encode(rgb_noise(4, 4, 2)), label="b")
    pools.set_active(node_store, pid, 0)

    def token(index=-1):
        return GridImagePool.IS_CHANGED(index=index, pool_id=pid)

    t0 = token()
    assert token() == t0  # nothing changed
    pools.set_label(node_store, pid, 1, "other slot")
    assert token() == t0  # another slot's label does not matter
    pools.set_label(node_store, pid, 0, "a2")
    t1 = token()
    assert t1 != t0
    mask = encode(Image.new("L", (4, 4), 255))
    pools.set_mask(node_store, pid, 0, mask)
    t2 = token()
    assert t2 != t1
    pools.set_active(node_store, pid, 1)
    t3 = token()
    assert t3 != t2
    assert token(index=0) == t2  # a forced slot ignores the active one
    pools.reorder(node_store, pid, [1, 0])  # slot 0 now holds the other image
    assert token(index=0) != t2
    pools.add_image(node_store, pid, encode(rgb_noise(4, 4, 3)))  # the count changes
    assert token() != t3
    # With a profile given directly, the profile's pool is tracked.
    assert GridImagePool.IS_CHANGED(
        index=-1, pool_id="other", profile=pid
    ) != GridImagePool.IS_CHANGED(index=-1, pool_id="other")


def test_is_changed_tracks_count(node_store):
    # `count` is an output too: a cached run must not keep an old count when images
    # are added or removed around a forced slot.
    pid = pool_id()
    pools.add_image(node_store, pid, encode(rgb_noise(4, 4, 1)))
    pools.add_image(node_store, pid, encode(rgb_noise(4, 4, 2)))
    t0 = GridImagePool.IS_CHANGED(index=0, pool_id=pid)
    pools.add_image(node_store, pid, encode(rgb_noise(4, 4, 3)))
    t1 = GridImagePool.IS_CHANGED(index=0, pool_id=pid)
    assert t1 != t0 and run(pool_id=pid, index=0)[3] == 3
    pools.remove_slot(node_store, pid, 2)
    assert GridImagePool.IS_CHANGED(index=0, pool_id=pid) not in (t1,)


def test_is_changed_when_profile_linked(node_store):
    entry = registry.create_profile(node_store, "Linked")
    # ComfyUI passes None for a linked input: the profile node tracks the profile's pool,
    # this node its own (read when "(no profile)" is picked).
    linked = GridImagePool.IS_CHANGED(index=-1, pool_id="x", profile=None)
    assert linked.startswith("linked:x:")
    assert GridImagePool.IS_CHANGED(index=-1, pool_id="x", profile=None) == linked
    pools.add_image(node_store, "x", encode(rgb_noise(2, 2)))
    assert GridImagePool.IS_CHANGED(index=-1, pool_id="x", profile=None) != linked

    def token():
        return PoolProfile.IS_CHANGED(profile="Linked", profile_id="")

    t0 = token()
    assert token() == t0
    pools.add_image(node_store, entry["id"], encode(rgb_noise(2, 2)))
    t1 = token()
    assert t1 != t0 and token() == t1
    pools.set_label(node_store, entry["id"], 0, "new label")
    assert token() != t1
    assert PoolProfile.IS_CHANGED(profile="x", profile_id=entry["id"]).startswith(entry["id"])


def test_is_changed_failure_reruns(node_store):
    value = PoolProfile.IS_CHANGED(profile="missing profile", profile_id="")
    assert isinstance(value, float) and math.isnan(value)
    assert math.isnan(GridImagePool.IS_CHANGED(index=-1, pool_id="bad id"))


# -- storage failures and the blob cache ----------------------------------------------


def test_storage_failure_is_one_clear_error(node_store, monkeypatch):
    pid = pool_id()
    pools.add_image(node_store, pid, encode(rgb_noise(3, 3)))

    def broken(path, *stamp):
        raise OSError("disk on fire")

    monkeypatch.setattr(node_store, "_read_versioned", broken)
    monkeypatch.setattr(node_store, "_read_if_changed", broken)
    with pytest.raises(runtime.PoolNodeError) as info:
        run(pool_id=pid)
    msg = str(info.value)
    assert "Image Pool (Grid)" in msg and pid in msg and "disk on fire" in msg
    assert node_store.backend in msg and "\n" not in msg
    monkeypatch.undo()

    def broken_blob(key):
        raise PoolProfilesError("blob gone wrong", code="storage")

    monkeypatch.setattr(node_store, "read_bytes", broken_blob)
    with pytest.raises(
        runtime.PoolNodeError, match=rf"loading image .* of pool '{pid}'.*blob gone"
    ):
        run(pool_id=pid)


def test_no_store_is_one_clear_error(monkeypatch):
    from pool_profiles.errors import ConfigError

    def provider():
        raise ConfigError("S3 bucket 'b' is not reachable")

    runtime.set_store_provider(provider)
    try:
        with pytest.raises(runtime.PoolNodeError, match="no usable store: S3 bucket 'b'"):
            run(pool_id="p")
    finally:
        runtime.set_store_provider(None)


def test_remote_blobs_cached_on_disk(node_store, store_spec, tmp_path, monkeypatch):
    pid = pool_id()
    pools.add_image(node_store, pid, encode(rgb_noise(6, 6)))
    pools.set_mask(node_store, pid, 0, encode(Image.new("L", (6, 6), 255)))
    reads: list[str] = []
    real = type(node_store).read_bytes

    def counting(self, key):
        reads.append(key)
        return real(self, key)

    monkeypatch.setattr(type(node_store), "read_bytes", counting)
    first = run(pool_id=pid)
    assert len(reads) == 2  # image + mask, whatever the backend
    second = run(pool_id=pid)
    assert all(torch.equal(a, b) for a, b in zip(first[:2], second[:2], strict=True))
    cache_dir = tmp_path / "blob-cache"
    if uses_cache(node_store):  # S3: the second run downloads nothing
        assert node_store.backend == "s3"
        assert len(reads) == 2
        assert runtime.blob_cache().hits == 2
        # Another process (a fresh Store, same URL) finds the cache too.
        runtime.set_store_provider(store_spec.open)
        runtime.set_cache_dir(str(cache_dir))
        assert torch.equal(run(pool_id=pid)[0], first[0])
        assert len(reads) == 2
    else:  # local reads in place; memory is in-process: nothing cached on disk
        assert node_store.backend in ("local", "memory")
        assert len(reads) == 4
        assert not cache_dir.exists() or not any(cache_dir.rglob("*.*"))


def test_s3_cache_saves_requests(node_store):
    if node_store.backend != "s3":
        pytest.skip("counts S3 GetObject requests")
    pid = pool_id()
    pools.add_image(node_store, pid, encode(rgb_noise(5, 5)))
    gets: list[str] = []

    def count(params, **_):
        gets.append(params["Key"])

    # Every request s3fs sends goes through this client's event hooks.
    node_store.fs.s3.meta.events.register("before-parameter-build.s3.GetObject", count)
    try:
        run(pool_id=pid)
        blob_gets = [k for k in gets if not k.endswith("manifest.json")]
        assert len(blob_gets) == 1 and "/img_" in blob_gets[0]
        manifest_gets = len(gets) - 1
        # As in a queue: IS_CHANGED checks the manifest (one conditional GET), and the
        # run right after it trusts that check (no request at all).
        GridImagePool.IS_CHANGED(index=-1, pool_id=pid)
        assert len(gets) - 1 == manifest_gets + 1
        run(pool_id=pid)
        assert len(gets) - 1 == manifest_gets + 1
        assert [k for k in gets if not k.endswith("manifest.json")] == blob_gets
    finally:
        node_store.fs.s3.meta.events.unregister("before-parameter-build.s3.GetObject", count)


def test_a_run_trusts_only_a_recent_check_and_sees_own_changes(node_store, monkeypatch):
    from pool_profiles import manifest as manifest_mod
    from pool_profiles.nodes import grid_image_pool

    pid = pool_id()
    for i in range(2):
        pools.add_image(node_store, pid, encode(rgb_noise(4, 4, seed=i)), label=f"s{i}")
    assert run(pool_id=pid)[2:] == (0, 2, "s0")
    checks: list[str] = []
    real = type(node_store).read_if_changed

    def counting(self, key, stamp):
        checks.append(key)
        return real(self, key, stamp)

    monkeypatch.setattr(type(node_store), "read_if_changed", counting)
    remote = uses_cache(node_store)
    run(pool_id=pid)
    assert len(checks) == (0 if remote else 1)  # local: a stat every run
    # A change made through this process is seen at once, whatever the window.
    pools.set_active(node_store, pid, 1)
    assert run(pool_id=pid)[2:] == (1, 2, "s1")
    # Another writer's change: seen as soon as the last check is older than the window.
    other = json.loads(node_store.read_bytes(f"{pid}/manifest.json"))
    other["slots"][1]["label"] = "changed elsewhere"
    node_store.write_bytes(f"{pid}/manifest.json", json.dumps(other).encode())
    clock = [manifest_mod.time.monotonic()]
    monkeypatch.setattr(manifest_mod.time, "monotonic", lambda: clock[0])
    clock[0] += grid_image_pool.RUN_TRUSTS_CHECK_SECONDS + 0.1
    assert run(pool_id=pid)[4] == "changed elsewhere"
    # IS_CHANGED never trusts an earlier check: it asks every time.
    before = len(checks)
    GridImagePool.IS_CHANGED(index=-1, pool_id=pid)
    GridImagePool.IS_CHANGED(index=-1, pool_id=pid)
    assert len(checks) == before + 2


def test_blob_cache_bounded(tmp_path, store):
    from pool_profiles.nodes.blobcache import BlobCache

    cache = BlobCache(str(tmp_path / "c"), max_bytes=250)
    for i in range(5):
        cache._put(cache.path_for(store, "p", f"img_{i}.png"), bytes(100))
    files = [p for p in (tmp_path / "c").rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) <= 250


def test_blob_cache_keys_differ_between_s3_endpoints(tmp_path, moto_endpoint):
    # Same bucket and prefix on two S3-compatible services (two MinIOs, moto and AWS):
    # earlier-pack pools name their blobs img_0001.png in both, with other bytes.
    from pool_profiles.backends import open_store
    from pool_profiles.nodes.blobcache import BlobCache
    from pool_profiles.testing.moto_server import s3_options

    cache = BlobCache(str(tmp_path / "c"))
    a = open_store("s3://bucket/grid_pool", s3_options(moto_endpoint))
    b = open_store("s3://bucket/grid_pool", s3_options("http://127.0.0.2:1"))
    assert a.url == b.url
    assert cache.path_for(a, "default", "img_0001.png") != cache.path_for(
        b, "default", "img_0001.png"
    )
    again = open_store("s3://bucket/grid_pool", s3_options(moto_endpoint))
    assert cache.path_for(a, "p", "img_0001.png") == cache.path_for(again, "p", "img_0001.png")


def test_corrupt_cached_blob_is_fetched_again(node_store):
    # A cache file cut short (power loss before the data reached the disk) must not
    # break the node until someone empties the cache by hand.
    if not uses_cache(node_store):
        pytest.skip("only remote stores are cached")
    pid = pool_id()
    pools.add_image(node_store, pid, encode(rgb_noise(6, 4)))
    first = run(pool_id=pid)[0]
    cache = runtime.blob_cache()
    name = pools.read_manifest(node_store, pid)["slots"][0]["image"]
    path = cache.path_for(node_store, pid, name)
    with open(path, "r+b") as f:
        f.truncate(20)
    assert torch.equal(run(pool_id=pid)[0], first)
    assert torch.equal(run(pool_id=pid)[0], first)  # and the cache holds good bytes again
    with open(path, "rb") as f:
        assert len(f.read()) > 20


# -- the ComfyUI adapter with stand-ins for ComfyUI's modules ---------------------------


class FakeServer:
    def __init__(self):
        from aiohttp import web

        self.routes = web.RouteTableDef()
        self.app = types.SimpleNamespace(on_startup=[])


@pytest.fixture
def fake_comfy(tmp_path, monkeypatch):
    """folder_paths, server.PromptServer.instance and nodes.NODE_CLASS_MAPPINGS."""
    from pool_profiles.comfy import entry
    from pool_profiles.comfy import store as comfy_store

    fp = types.ModuleType("folder_paths")
    (tmp_path / "input").mkdir()
    (tmp_path / "user").mkdir()
    fp.get_input_directory = lambda: str(tmp_path / "input")
    fp.get_user_directory = lambda: str(tmp_path / "user")
    server_mod = types.ModuleType("server")
    server_mod.PromptServer = type("PromptServer", (), {"instance": FakeServer()})
    nodes_mod = types.ModuleType("nodes")
    nodes_mod.NODE_CLASS_MAPPINGS = {}
    for name, mod in (("folder_paths", fp), ("server", server_mod), ("nodes", nodes_mod)):
        monkeypatch.setitem(sys.modules, name, mod)
    for var in ("POOL_PROFILES_STORE", "POOL_PROFILES_STORE_OPTIONS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(entry, "_loaded_from", None)
    comfy_store.reset()
    yield types.SimpleNamespace(
        tmp=tmp_path, server=server_mod.PromptServer.instance, nodes=nodes_mod, entry=entry
    )
    comfy_store.reset()


def test_comfy_store_defaults_to_input_grid_pool(fake_comfy):
    from pool_profiles.comfy.store import get_store

    store = get_store()
    assert store is get_store()  # one Store per process
    assert store.backend == "local"
    assert os.path.samefile(store.root, fake_comfy.tmp / "input" / "grid_pool")


def test_comfy_store_config_file_and_clear_failure(fake_comfy, caplog):
    from pool_profiles.comfy.store import get_store, open_at_startup

    (fake_comfy.tmp / "user" / "pool_profiles.json").write_text('{"store": "nope://x"}')
    with caplog.at_level(logging.ERROR, logger="pool_profiles"):
        open_at_startup()
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(lines) == 1 and "nope" in lines[0] and "pool_profiles.json" in lines[0]
    with pytest.raises(PoolProfilesError):
        get_store()


def test_stage_image(fake_comfy):
    from pool_profiles.comfy.stage import STAGE_SUBFOLDER, stage_image

    data = encode(rgb_noise(2, 2))
    ref = stage_image(data, "../../evil name.png")
    assert ref["subfolder"] == STAGE_SUBFOLDER and ref["type"] == "input"
    path = fake_comfy.tmp / "input" / STAGE_SUBFOLDER / ref["name"]
    assert path.read_bytes() == data and ref["name"].endswith(".png") and "/" not in ref["name"]
    assert stage_image(data, "x.exe")["name"].endswith(".png")


def test_entry_registers_routes_once(fake_comfy, caplog):
    loaded = fake_comfy.entry.load(REPO)
    assert set(loaded.nodes) == {"GridImagePool", "PoolProfile", "GridImagePoolAll"} and loaded.web
    paths = {r.path for r in fake_comfy.server.routes}
    assert "/grid_pool/profiles/list" in paths and "/grid_pool/list" in paths
    count = len(list(fake_comfy.server.routes))
    with caplog.at_level(logging.WARNING, logger="pool_profiles"):
        again = fake_comfy.entry.load("/somewhere/else/pool-profiles")
    assert again.nodes == {} and not again.web
    assert "loaded twice" in caplog.text
    assert len(list(fake_comfy.server.routes)) == count


def test_entry_warns_when_replaced_later(fake_comfy, caplog):
    import asyncio

    fake_comfy.entry.load(REPO)
    (check,) = fake_comfy.server.app.on_startup
    fake_comfy.nodes.NODE_CLASS_MAPPINGS.update(NODE_CLASS_MAPPINGS)
    with caplog.at_level(logging.WARNING, logger="pool_profiles"):
        asyncio.run(check(None))
    assert "replaced" not in caplog.text
    fake_comfy.nodes.NODE_CLASS_MAPPINGS["PoolProfile"] = type("PoolProfile", (), {})
    with caplog.at_level(logging.WARNING, logger="pool_profiles"):
        asyncio.run(check(None))
    assert "PoolProfile were replaced" in caplog.text


def test_entry_yields_to_earlier_pack(fake_comfy, caplog):
    class OldGridImagePool:
        RELATIVE_PYTHON_MODULE = "custom_nodes.ComfyUI-Datasete-Gates"

    fake_comfy.nodes.NODE_CLASS_MAPPINGS["GridImagePool"] = OldGridImagePool
    with caplog.at_level(logging.WARNING, logger="pool_profiles"):
        loaded = fake_comfy.entry.load(REPO)
    assert loaded.nodes == {} and not loaded.web
    assert "GridImagePool" in caplog.text and "Datasete-Gates" in caplog.text
    assert list(fake_comfy.server.routes) == []


def test_entry_skips_taken_routes(fake_comfy, caplog):
    async def old_handler(request):  # pragma: no cover - never called
        raise AssertionError

    fake_comfy.server.routes.get("/grid_pool/list")(old_handler)
    with caplog.at_level(logging.WARNING, logger="pool_profiles"):
        loaded = fake_comfy.entry.load(REPO)
    assert set(loaded.nodes) == {"GridImagePool", "PoolProfile", "GridImagePoolAll"}
    assert "already registered" in caplog.text
    assert len(list(fake_comfy.server.routes)) == 1


def test_root_init_outside_comfyui():
    """The repo-root __init__.py imports without ComfyUI and reuses the one
    `pool_profiles` package already loaded."""
    import pool_profiles

    name = f"pool_profiles_pack_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(name, os.path.join(REPO, "__init__.py"))
    module = importlib.util.module_from_spec(spec)
    before = list(sys.path)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    assert module.WEB_DIRECTORY == "./web"
    assert set(module.NODE_CLASS_MAPPINGS) == {"GridImagePool", "PoolProfile", "GridImagePoolAll"}
    assert module.NODE_CLASS_MAPPINGS["GridImagePool"] is GridImagePool
    assert sys.modules["pool_profiles"] is pool_profiles
    assert sys.path == before
