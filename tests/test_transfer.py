"""transfer: copying profiles with their pools between stores (every backend as target)."""

from __future__ import annotations

import io
import uuid

import pytest
from PIL import Image

from pool_profiles import pools, registry, transfer
from pool_profiles.errors import NotFoundError, StorageError, ValidationError
from pool_profiles.testing.spec import StoreSpec


def png(color=(255, 0, 0), size=(8, 6), mode="RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, color).save(buf, "PNG")
    return buf.getvalue()


def mem_store():
    return StoreSpec(f"memory://xfer-{uuid.uuid4().hex[:12]}").open()


@pytest.fixture
def src():
    s = mem_store()
    a = registry.create_profile(s, "Alpha")["id"]
    pools.add_image(s, a, png((255, 0, 0)), label="red")
    pools.add_image(s, a, png((0, 255, 0), (4, 4)), label="green")
    pools.set_mask(s, a, 1, png(128, mode="L"))
    b = registry.create_profile(s, "Beta")["id"]
    pools.add_image(s, b, png((0, 0, 255)), label="blue")
    registry.create_profile(s, "Empty")
    return s


def contents(store, pid):
    m = pools.read_manifest(store, pid)
    return m["active"], [
        (
            pools.read_blob(store, pid, s["image"]),
            pools.read_blob(store, pid, s["mask"]) if s.get("mask") else None,
            s["label"],
        )
        for s in m["slots"]
    ]


def test_copy_all_keeps_ids_names_and_bytes(src, store):
    progress = []
    copied = transfer.copy_profiles(src, store, progress=lambda d, t: progress.append((d, t)))
    assert [(e["id"], e["name"]) for e in copied] == [
        (e["id"], e["name"]) for e in registry.list_profiles(src)
    ]
    for entry in copied:
        assert contents(store, entry["id"]) == contents(src, entry["id"])
    assert progress[-1] == (4, 4)  # 3 images + 1 mask
    # Thumbnails travel too, so the target's grid needs no originals.
    first = pools.read_manifest(store, copied[0]["id"])["slots"][0]["image"]
    assert store.exists(f"{copied[0]['id']}/thumbs/{first}.webp")


def test_copy_again_gets_fresh_ids_and_suffixed_names(src, store):
    transfer.copy_profiles(src, store)
    again = transfer.copy_profiles(src, store, [registry.list_profiles(src)[0]["id"]])
    (entry,) = again
    original = registry.list_profiles(src)[0]
    assert entry["id"] != original["id"]
    assert entry["name"] == "Alpha (2)"
    assert contents(store, entry["id"]) == contents(src, original["id"])
    assert len(registry.list_profiles(store)) == 4


def test_unknown_or_bad_id_copies_nothing(src):
    dst = mem_store()
    good = registry.list_profiles(src)[0]["id"]
    with pytest.raises(NotFoundError):
        transfer.copy_profiles(src, dst, [good, "nope"])
    with pytest.raises(ValidationError):
        transfer.copy_profiles(src, dst, ["../x"])
    assert dst.walk("") == []


def test_failure_midway_leaves_no_half_copied_pool(src, store, monkeypatch):
    alpha = registry.list_profiles(src)[0]["id"]
    before = (registry.list_profiles(store), store.walk(""))
    calls = {"n": 0}
    real = store.write_stream

    def flaky(key, chunks):
        calls["n"] += 1
        if calls["n"] == 2:
            raise StorageError("network went away")
        return real(key, chunks)

    monkeypatch.setattr(store, "write_stream", flaky)
    with pytest.raises(StorageError):
        transfer.copy_profiles(src, store, [alpha])
    assert (registry.list_profiles(store), store.walk("")) == before


def test_missing_source_blob_drops_its_slot(src):
    alpha = registry.list_profiles(src)[0]["id"]
    m = pools.read_manifest(src, alpha)
    src.delete(pools.blob_key(alpha, m["slots"][0]["image"]))
    dst = mem_store()
    (entry,) = transfer.copy_profiles(src, dst, [alpha])
    _, slots = contents(dst, entry["id"])
    assert [label for _, _, label in slots] == ["green"]


def test_empty_profile_is_copied(src):
    dst = mem_store()
    empty = next(e for e in registry.list_profiles(src) if e["name"] == "Empty")
    (entry,) = transfer.copy_profiles(src, dst, [empty["id"]])
    assert entry["name"] == "Empty"
    assert pools.pool_view(dst, entry["id"])["count"] == 0
