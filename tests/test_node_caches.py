"""The node's caches: decoded tensors for revisits (bounded, keyed by store + pool +
immutable blob name) and the blob cache's size bound without a folder walk per miss."""

from __future__ import annotations

import io
import os
import uuid

import pytest

torch = pytest.importorskip("torch")

from PIL import Image  # noqa: E402

from pool_profiles import pools  # noqa: E402
from pool_profiles.backends import open_store  # noqa: E402
from pool_profiles.nodes import GridImagePool, convert, runtime  # noqa: E402
from pool_profiles.nodes.blobcache import BlobCache  # noqa: E402
from pool_profiles.nodes.tensorcache import TensorCache, size_from_env  # noqa: E402


def png(color, size=(8, 6)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def node(tmp_path):
    store = open_store(str(tmp_path / "store"))
    runtime.set_store_provider(lambda: store)
    runtime.set_cache_dir(str(tmp_path / "blob-cache"))
    runtime.set_tensor_cache_bytes(64 * 2**20)
    yield store
    runtime.set_store_provider(None)
    runtime.set_cache_dir(None)
    runtime.set_tensor_cache_bytes(None)


@pytest.fixture
def decodes(monkeypatch):
    seen: list[int] = []
    real = convert.decode_image

    def counting(data, max_pixels):
        seen.append(len(data))
        return real(data, max_pixels)

    monkeypatch.setattr(convert, "decode_image", counting)
    return seen


def run(pid, index):
    return GridImagePool().run(index=index, pool_id=pid)


def test_revisiting_a_slot_does_not_decode_again(node, decodes):
    pools.add_image(node, "p", png((255, 0, 0)))
    pools.add_image(node, "p", png((0, 255, 0)))
    a = run("p", 0)[0]
    run("p", 1)
    again = run("p", 0)[0]
    assert len(decodes) == 2
    assert torch.equal(a, again) and again[0, 0, 0, 0] == 1.0


def test_the_key_is_store_pool_and_blob(node, decodes, tmp_path):
    pools.add_image(node, "p", png((255, 0, 0)))
    pools.add_image(node, "q", png((0, 0, 255)))
    other = open_store(str(tmp_path / "other"))
    pools.add_image(other, "p", png((0, 255, 0)))
    assert run("p", 0)[0][0, 0, 0].tolist() == [1.0, 0.0, 0.0]
    assert run("q", 0)[0][0, 0, 0].tolist() == [0.0, 0.0, 1.0]
    runtime.set_store_provider(lambda: other)
    assert run("p", 0)[0][0, 0, 0].tolist() == [0.0, 1.0, 0.0]
    assert len(decodes) == 3


def test_a_local_blob_rewritten_outside_the_pack_is_decoded_again(node, decodes):
    pools.add_image(node, "p", png((255, 0, 0)))
    name = pools.current_manifest(node, "p")["slots"][0]["image"]
    run("p", 0)
    path = node.local_path(pools.blob_key("p", name))
    with open(path + ".new", "wb") as f:
        f.write(png((0, 255, 0)))
    os.replace(path + ".new", path)
    assert run("p", 0)[0][0, 0, 0].tolist() == [0.0, 1.0, 0.0]


def test_a_new_mask_is_used_at_once(node):
    pools.add_image(node, "p", png((255, 0, 0)))
    assert run("p", 0)[1].max() == 0.0
    buf = io.BytesIO()
    Image.new("L", (8, 6), 255).save(buf, "PNG")
    pools.set_mask(node, "p", 0, buf.getvalue())
    assert run("p", 0)[1].min() == 1.0


def test_tensor_cache_is_bounded_least_recently_used_first():
    cache = TensorCache(max_bytes=3 * 400)
    for i in range(3):
        cache.put(i, torch.zeros(100))  # 400 bytes each
    cache.get(0)  # 0 is now the most recent
    cache.put(3, torch.zeros(100))
    assert cache.get(1) is None and cache.get(0) is not None and cache.get(3) is not None
    assert cache.used <= cache.max_bytes
    cache.put("huge", torch.zeros(1000))  # bigger than the cache: not kept, nothing evicted
    assert cache.get("huge") is None and len(cache) == 3


def test_tensor_cache_size_comes_from_the_environment(monkeypatch, node, decodes):
    monkeypatch.setenv("POOL_PROFILES_TENSOR_CACHE_MB", "2")
    assert size_from_env() == 2 * 2**20
    monkeypatch.setenv("POOL_PROFILES_TENSOR_CACHE_MB", "0")
    runtime.set_tensor_cache_bytes(None)
    pools.add_image(node, "p", png((255, 0, 0)))
    run("p", 0)
    run("p", 0)
    assert len(decodes) == 2  # off


def test_blob_cache_does_not_walk_its_folder_on_every_miss(tmp_path, monkeypatch):
    store = open_store(f"memory://walk-{uuid.uuid4().hex[:8]}")
    cache = BlobCache(str(tmp_path / "c"), max_bytes=2000)
    walks: list[str] = []
    real = os.walk
    monkeypatch.setattr(os, "walk", lambda p, *a, **k: walks.append(p) or real(p, *a, **k))
    for i in range(20):
        cache._put(cache.path_for(store, "p", f"img_{i}.png"), bytes(100))
    assert len(walks) == 1  # the first write counts the folder once; no prune needed yet
    for i in range(20, 60):
        cache._put(cache.path_for(store, "p", f"img_{i}.png"), bytes(100))
        files = [p for p in (tmp_path / "c").rglob("*") if p.is_file()]
        assert sum(p.stat().st_size for p in files) <= 2000
    assert len(walks) <= 1 + 40 // 2  # a prune frees 10 %: two misses per walk at most here
    newest = cache.path_for(store, "p", "img_59.png")
    assert os.path.exists(newest)
