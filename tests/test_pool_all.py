"""Image Pool (All): every matching slot as lists and as one batch, on every backend."""

from __future__ import annotations

import io
import uuid

import pytest

torch = pytest.importorskip("torch")
np = pytest.importorskip("numpy")

from PIL import Image  # noqa: E402

from pool_profiles import pools, registry  # noqa: E402
from pool_profiles.decode_budget import BUDGET  # noqa: E402
from pool_profiles.nodes import (  # noqa: E402
    GridImagePool,
    GridImagePoolAll,
    PoolProfile,
    pool_all,  # noqa: E402
    runtime,
)
from pool_profiles.nodes.blobcache import uses_cache  # noqa: E402


def png(color, size) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def node_store(store, tmp_path):
    runtime.set_store_provider(lambda: store)
    runtime.set_cache_dir(str(tmp_path / "blob-cache"))
    yield store
    runtime.set_store_provider(None)
    runtime.set_cache_dir(None)


SLOTS = [  # label, colour, size (w, h), added
    ("front, red", (255, 0, 0), (8, 4), 30.0),
    ("side, red", (200, 0, 0), (4, 4), 10.0),
    ("front, blue", (0, 0, 255), (6, 6), 20.0),
    ("b plain", (0, 255, 0), (4, 8), 40.0),
]


@pytest.fixture
def pool(node_store) -> str:
    pid = "all-" + uuid.uuid4().hex[:8]
    for label, colour, size, added in SLOTS:
        pools.add_image(node_store, pid, png(colour, size), label=label, ts=added)
    mask = io.BytesIO()
    Image.new("L", (4, 4), 255).save(mask, "PNG")
    pools.set_mask(node_store, pid, 1, mask.getvalue())
    return pid


def run(**kw):
    return GridImagePoolAll().run(**kw)


def test_node_declares_lists_and_a_batch():
    assert GridImagePoolAll.RETURN_NAMES == (
        "images",
        "masks",
        "labels",
        "indexes",
        "batch",
        "batch_mask",
        "count",
    )
    assert GridImagePoolAll.OUTPUT_IS_LIST == (True, True, True, True, False, False, False)
    spec = GridImagePoolAll.INPUT_TYPES()
    assert spec["optional"] == {"profile": ("POOL_PROFILE",)}
    assert spec["required"]["seed"][1]["control_after_generate"] is False
    assert GridImagePoolAll.CATEGORY == GridImagePool.CATEGORY == "Pool Profiles"


def test_every_slot_as_lists_of_their_own_sizes(pool):
    images, masks, labels, indexes, batch, batch_mask, count = run(pool_id=pool)
    assert count == 4 and indexes == [0, 1, 2, 3]
    assert labels == [s[0] for s in SLOTS]
    assert [tuple(i.shape) for i in images] == [(1, h, w, 3) for _, _, (w, h), _ in SLOTS]
    assert [tuple(m.shape) for m in masks] == [(1, h, w) for _, _, (w, h), _ in SLOTS]
    assert float(masks[1].min()) == 1.0 and not masks[0].any()
    # The same tensors as the pool node outputs, slot by slot.
    for i in range(4):
        assert torch.equal(images[i], GridImagePool().run(index=i, pool_id=pool)[0])
    # The batch: the first image's size (8x4), cropped by default.
    assert batch.shape == (4, 4, 8, 3) and batch_mask.shape == (4, 4, 8)
    assert torch.allclose(batch[0, 0, 0], torch.tensor([1.0, 0.0, 0.0]))


def test_tag_filter_order_start_limit(pool):
    assert run(pool_id=pool, tags="red")[3] == [0, 1]
    assert run(pool_id=pool, tags="front | side, -blue")[3] == [0, 1]
    assert run(pool_id=pool, order="label")[2] == [
        "b plain",
        "front, blue",
        "front, red",
        "side, red",
    ]
    assert run(pool_id=pool, order="newest")[3] == [3, 0, 2, 1]
    first = run(pool_id=pool, order="random", seed=7)[3]
    assert sorted(first) == [0, 1, 2, 3]
    assert run(pool_id=pool, order="random", seed=7)[3] == first  # reproducible
    others = {tuple(run(pool_id=pool, order="random", seed=s)[3]) for s in range(8)}
    assert len(others) > 1
    assert run(pool_id=pool, start=1, limit=2)[3] == [1, 2]
    assert run(pool_id=pool, start=3, limit=10)[3] == [3]


def test_nothing_matching_is_empty_not_an_error(pool):
    images, masks, labels, indexes, batch, batch_mask, count = run(pool_id=pool, tags="green")
    assert (images, masks, labels, indexes, count) == ([], [], [], [], 0)
    assert batch.shape == (1, 1, 1, 3) and not batch.any() and batch_mask.shape == (1, 1, 1)


@pytest.mark.parametrize(
    ("policy", "expect"),
    [("stretch", (1.0, 1.0)), ("crop", (1.0, 1.0)), ("pad", (0.0, 1.0))],
)
def test_resize_policies(node_store, policy, expect):
    pid = "rs-" + uuid.uuid4().hex[:8]
    pools.add_image(node_store, pid, png((255, 255, 255), (4, 4)))
    pools.add_image(node_store, pid, png((255, 255, 255), (8, 4)))
    batch = run(pool_id=pid, resize=policy, width=8, height=8)[4]
    assert batch.shape == (2, 8, 8, 3)
    corner, centre = float(batch[1, 0, 0, 0]), float(batch[1, 4, 4, 0])
    assert (round(corner, 3), round(centre, 3)) == expect
    assert torch.allclose(batch[0], torch.ones(8, 8, 3))  # 4x4 white scales to 8x8 white


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"start": 4}, "start 4 is past the end"),
        ({"start": -1}, "start -1 is out of range"),
        ({"limit": -2}, "limit -2 is out of range"),
        ({"seed": -5}, "seed -5 is out of range"),
        ({"width": 0, "height": 5}, "give both width and height"),
        ({"width": 16384, "height": 16384}, "over the limit"),
        ({"order": "sideways"}, "order 'sideways' is not one of"),
        ({"resize": "fold"}, "resize 'fold' is not one of"),
        ({"tags": "a*b"}, "may only end a tag"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(node_store, pool, kw, message):
    before = node_store.read_bytes(f"{pool}/manifest.json")
    with pytest.raises(runtime.PoolNodeError) as err:
        run(pool_id=pool, **kw)
    assert message in err.value.message and "\n" not in err.value.message
    assert err.value.message.startswith("Image Pool (All): ")
    assert node_store.read_bytes(f"{pool}/manifest.json") == before


def test_same_pool_rule_as_the_pool_node(node_store, pool):
    assert run(pool_id=pool, profile="")[6] == 4  # "(no profile)": its own pool
    entry = registry.create_profile(node_store, "All of it")
    (pid,) = PoolProfile().run(profile="All of it", profile_id=entry["id"])
    assert run(pool_id=pool, profile=pid)[6] == 0
    registry.delete_profile(node_store, entry["id"])
    GridImagePoolAll.IS_CHANGED(pool_id=pool, profile=entry["id"])
    with pytest.raises(runtime.PoolNodeError, match="no longer exists"):
        run(pool_id=pool, profile=entry["id"])


def test_is_changed_follows_any_change_of_the_pool(node_store, pool):
    t0 = GridImagePoolAll.IS_CHANGED(pool_id=pool, tags="")
    assert GridImagePoolAll.IS_CHANGED(pool_id=pool, tags="") == t0
    pools.set_label(node_store, pool, 3, "renamed")
    assert GridImagePoolAll.IS_CHANGED(pool_id=pool, tags="") != t0
    linked = GridImagePoolAll.IS_CHANGED(pool_id=pool, profile=None)
    assert linked.startswith(f"linked:{pool}:")


def test_decodes_run_inside_the_decode_budget(node_store, pool, monkeypatch):
    runtime.set_tensor_cache_bytes(0)
    try:
        BUDGET.reset_peaks()
        monkeypatch.setattr(pool_all, "WORKERS", 4)
        run(pool_id=pool)
        assert BUDGET.peak_running >= 1 and BUDGET.state().running == 0
        # A budget of one small image: still every image, one decode at a time.
        monkeypatch.setenv("POOL_PROFILES_DECODE_BUDGET_BYTES", "1")
        BUDGET.reset_peaks()
        assert run(pool_id=pool)[6] == 4
        assert BUDGET.peak_running == 1
    finally:
        runtime.set_tensor_cache_bytes(None)


def test_a_cached_blob_cut_short_is_fetched_again(node_store, pool, tmp_path):
    runtime.set_tensor_cache_bytes(0)  # every run decodes (into the batch rows)
    try:
        first = run(pool_id=pool, width=8, height=8)
        cached = [p for p in (tmp_path / "blob-cache").rglob("*.*") if p.is_file()]
        assert bool(cached) == uses_cache(node_store)  # remote stores read through it
        for path in cached:  # a crash mid-write elsewhere: files cut short
            path.write_bytes(path.read_bytes()[:20])
        again = run(pool_id=pool, width=8, height=8)
        assert torch.equal(first[4], again[4]) and torch.equal(first[5], again[5])
        assert all(torch.equal(a, b) for a, b in zip(first[0], again[0], strict=True))
    finally:
        runtime.set_tensor_cache_bytes(None)


def test_runs_under_comfyuis_inference_mode(pool, monkeypatch):
    # ComfyUI executes nodes inside torch.inference_mode(); the parallel decodes write
    # into the batch from worker threads, which must take that mode too.
    monkeypatch.setattr(pool_all, "WORKERS", 3)
    with torch.inference_mode():
        GridImagePool().run(index=0, pool_id=pool)  # an inference tensor in the cache
        out = run(pool_id=pool, width=6, height=6)
    assert out[4].shape == (4, 6, 6, 3) and out[6] == 4
