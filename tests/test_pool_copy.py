"""pool_copy.copy_pool: a copy-pasted pool node's new pool starts with the source's
slots, on every backend, independent of the source afterwards."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from pool_profiles import pool_copy, pools
from pool_profiles.errors import ConflictError, ValidationError


def png(color: tuple[int, int, int] = (255, 0, 0)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 6), color).save(buf, "PNG")
    return buf.getvalue()


def mask_png() -> bytes:
    buf = io.BytesIO()
    Image.new("L", (8, 6), 255).save(buf, "PNG")
    return buf.getvalue()


def test_copy_has_the_same_slots_masks_labels_and_thumbs(store):
    pools.add_image(store, "src", png(), label="first")
    pools.add_image(store, "src", png((0, 255, 0)), label="second")
    pools.set_mask(store, "src", 1, mask_png())
    pools.set_active(store, "src", 1)
    out = pool_copy.copy_pool(store, "src", "dst")
    assert out["source"] == "src" and out["target"] == "dst" and out["copied"] >= 6
    assert pools.read_manifest(store, "dst") == pools.read_manifest(store, "src")
    src_keys = sorted(k[len("src/") :] for k in store.walk("src") if "/history/" not in k)
    assert sorted(k[len("dst/") :] for k in store.walk("dst")) == src_keys
    assert any(k.startswith("thumbs/") for k in src_keys)
    for k in src_keys:
        assert store.read_bytes(f"dst/{k}") == store.read_bytes(f"src/{k}")
    view = pools.pool_view(store, "dst")
    assert view["active"] == 1 and view["slots"][1]["has_mask"]


def test_the_copy_is_independent_of_the_source(store):
    pools.add_image(store, "src", png(), label="a")
    pools.add_image(store, "src", png((0, 0, 255)), label="b")
    pool_copy.copy_pool(store, "src", "dst")
    pools.set_label(store, "dst", 0, "changed")
    pools.remove_slot(store, "dst", 1)
    src = pools.read_manifest(store, "src")
    assert [s["label"] for s in src["slots"]] == ["a", "b"]
    for s in src["slots"]:
        assert store.exists(pools.blob_key("src", s["image"]))
    pools.remove_slot(store, "src", 0)
    assert pools.pool_view(store, "dst")["slots"][0]["label"] == "changed"
    assert pools.read_blob(store, "dst", pools.read_manifest(store, "dst")["slots"][0]["image"])


def test_copy_of_an_empty_pool_is_empty(store):
    out = pool_copy.copy_pool(store, "nothing-here", "dst")
    assert out["copied"] == 0
    assert pools.pool_view(store, "dst")["count"] == 0
    assert store.walk("dst") == []


def test_a_target_with_data_is_refused_and_unchanged(store):
    pools.add_image(store, "src", png())
    pools.add_image(store, "dst", png((1, 2, 3)), label="keep")
    before = pools.read_manifest(store, "dst")
    with pytest.raises(ConflictError):
        pool_copy.copy_pool(store, "src", "dst")
    assert pools.read_manifest(store, "dst") == before


def test_copy_onto_itself_and_bad_ids_are_refused(store):
    pools.add_image(store, "src", png())
    with pytest.raises(ConflictError):
        pool_copy.copy_pool(store, "src", "src")
    with pytest.raises(ValidationError):
        pool_copy.copy_pool(store, "src", "../x")
    with pytest.raises(ValidationError):
        pool_copy.copy_pool(store, "a/b", "dst")
    assert pools.pool_view(store, "src")["count"] == 1


def test_a_failing_copy_leaves_no_partial_target(store, monkeypatch):
    pools.add_image(store, "src", png())
    pools.add_image(store, "src", png((0, 9, 0)))
    real = store.copy_objects
    calls = []

    def flaky(pairs, **kw) -> int:
        for pair in pairs:  # the second object fails, after the first was copied
            calls.append(pair)
            if len(calls) == 2:
                raise OSError("backend went away")
            real([pair], **kw)
        return len(calls)

    monkeypatch.setattr(store, "copy_objects", flaky)
    with pytest.raises(OSError):
        pool_copy.copy_pool(store, "src", "dst")
    monkeypatch.undo()
    assert store.walk("dst") == []
    assert pools.pool_view(store, "src")["count"] == 2


def test_copy_moves_no_blob_bytes_through_this_host(store, monkeypatch):
    pools.add_image(store, "src", png())

    def forbidden(*a, **kw):
        raise AssertionError("blob bytes read through this host")

    monkeypatch.setattr(store, "read_bytes", forbidden)
    monkeypatch.setattr(store, "open_read", forbidden)
    pool_copy.copy_pool(store, "src", "dst")
    monkeypatch.undo()
    assert pools.pool_view(store, "dst")["count"] == 1
