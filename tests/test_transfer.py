"""transfer: copying profiles with their pools between stores (every backend as target)."""

from __future__ import annotations

import io
import uuid

import pytest
from PIL import Image

from pool_profiles import check, history, pools, registry, transfer
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


def test_an_id_used_by_a_node_pool_gets_a_fresh_id_and_a_taken_name_a_suffix(src, store):
    original = registry.list_profiles(src)[0]
    pools.add_image(store, original["id"], png((1, 2, 3)))  # a node's pool, same id
    registry.create_profile(store, original["name"])  # another profile holds the name
    (entry,) = transfer.copy_profiles(src, store, [original["id"]])
    assert entry["id"] != original["id"] and entry["copy"] == "copied"
    assert entry["name"] == f"{original['name']} (2)"
    assert contents(store, entry["id"]) == contents(src, original["id"])
    assert len(pools.read_manifest(store, original["id"])["slots"]) == 1  # left alone


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


def test_copying_again_updates_in_place_and_never_duplicates(src, store):
    first = transfer.copy_profiles(src, store)
    assert {e["copy"] for e in first} == {"copied"}
    again = transfer.copy_profiles(src, store)
    assert [(e["id"], e["name"], e["copy"]) for e in again] == [
        (e["id"], e["name"], "unchanged") for e in first
    ]
    assert len(registry.list_profiles(store)) == len(first)  # no "Alpha (2)"
    alpha = next(e["id"] for e in first if e["name"] == "Alpha")
    beta = next(e["id"] for e in first if e["name"] == "Beta")
    # The source changes: a new image, a removed slot, a rename.
    removed = pools.read_manifest(src, alpha)["slots"][0]["image"]
    pools.add_image(src, alpha, png((9, 9, 9)), label="new")
    pools.remove_slot(src, alpha, 0)
    registry.rename_profile(src, beta, "Beta renamed")
    third = {e["id"]: e for e in transfer.copy_profiles(src, store)}
    assert third[alpha]["copy"] == "updated" and third[beta]["copy"] == "updated"
    assert third[beta]["name"] == "Beta renamed"
    assert contents(store, alpha) == contents(src, alpha)
    # Its slot went at the source; here the replaced version is kept in history (with
    # its blob) and `check` finds nothing orphaned.
    assert store.exists(pools.blob_key(alpha, removed))
    assert "updated by a copy" in history.pool_history(store, alpha)["versions"][0]["description"]
    assert not [i for i in check.check_store(store).issues if i.kind == "orphan_blob"]
    assert len(registry.list_profiles(store)) == len(first)
