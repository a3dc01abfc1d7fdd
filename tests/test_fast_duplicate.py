"""Duplicating a profile without moving bytes: hard links for immutable blobs on local
disk (copies where links fail or names may be rewritten in place), one concurrent
CopyObject per object on S3."""

from __future__ import annotations

import errno
import io
import json
import os

import pytest
from PIL import Image

from pool_profiles import blobs, pool_copy, pools, registry
from pool_profiles.backends import open_store


def png(color=(200, 10, 10), size=(6, 4)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def local(tmp_path):
    return open_store(str(tmp_path / "store"))


def profile_with_images(store, n=3, *, mask=True) -> str:
    pid = registry.create_profile(store, "Source")["id"]
    for i in range(n):
        pools.add_image(store, pid, png((i * 40, 0, 0)))
    if mask:
        pools.set_mask(store, pid, 0, png((255, 255, 255)))
    return pid


def inode(store, key) -> int:
    return os.stat(store.local_path(key)).st_ino


def test_a_local_duplicate_shares_inodes_and_stays_independent(local):
    src = profile_with_images(local)
    dup = registry.duplicate_profile(local, src, "Copy")["id"]
    src_keys = [
        k for k in local.walk(src) if not k.endswith("manifest.json") and "/history/" not in k
    ]
    assert any("/thumbs/" in k for k in src_keys) and any(".mask-" in k for k in src_keys)
    for key in src_keys:  # images, masks, thumbnails: linked, not copied
        assert inode(local, key) == inode(local, dup + key[len(src) :]), key
    before = {k: local.read_bytes(k) for k in local.walk(src)}

    # Edits through the copy (a new mask, a label, a removal, a new image) and a
    # write straight onto a linked key change nothing of the source.
    pools.set_mask(local, dup, 1, png((255, 255, 255)))
    pools.set_label(local, dup, 0, "changed")
    pools.remove_slot(local, dup, 2)
    pools.add_image(local, dup, png((1, 2, 3)))
    linked = dup + src_keys[0][len(src) :]
    local.write_bytes(linked, b"rewritten through the copy's name")
    assert {k: local.read_bytes(k) for k in local.walk(src)} == before
    assert pools.pool_view(local, src)["count"] == 3

    registry.delete_profile(local, src)
    assert pools.pool_view(local, dup)["count"] == 3  # the copy keeps its images


def test_earlier_pack_names_are_copied_not_linked(local):
    # The earlier pack rewrites "img_0001.mask.png" in place ("wb") when a mask
    # changes: a link would carry that change into the copy.
    src = registry.create_profile(local, "Earlier")["id"]
    local.write_bytes(f"{src}/img_0001.png", png())
    local.write_bytes(f"{src}/img_0001.mask.png", png((255, 255, 255)))
    doc = {"active": 0, "slots": [{"image": "img_0001.png", "mask": "img_0001.mask.png"}]}
    local.write_bytes(f"{src}/manifest.json", json.dumps(doc, indent=2).encode())
    dup = registry.duplicate_profile(local, src, "Copy")["id"]
    for name in ("img_0001.png", "img_0001.mask.png"):
        assert inode(local, f"{src}/{name}") != inode(local, f"{dup}/{name}")
        assert local.read_bytes(f"{src}/{name}") == local.read_bytes(f"{dup}/{name}")
    with open(local.local_path(f"{src}/img_0001.mask.png"), "wb") as f:
        f.write(b"in place")
    assert local.read_bytes(f"{dup}/img_0001.mask.png") == png((255, 255, 255))


@pytest.mark.parametrize("err", [errno.EXDEV, errno.EPERM, errno.EMLINK])
def test_where_links_fail_the_duplicate_copies(local, monkeypatch, err):
    src = profile_with_images(local, 2)

    def no_links(a, b, **kw):
        raise OSError(err, os.strerror(err))

    monkeypatch.setattr(os, "link", no_links)
    dup = registry.duplicate_profile(local, src, "Copy")["id"]
    for key in [k for k in local.walk(src) if "/history/" not in k]:  # a copy: no history
        twin = dup + key[len(src) :]
        assert local.read_bytes(twin) == local.read_bytes(key)
        if not key.endswith("manifest.json"):
            assert inode(local, twin) != inode(local, key)
    assert pools.pool_view(local, dup)["count"] == 2
    assert not [n for _, _, names in os.walk(local.root) for n in names if n.endswith(".tmp")]


def test_a_node_copy_links_too(local):
    pools.add_image(local, "src", png())
    pool_copy.copy_pool(local, "src", "dst")
    [name] = [s["image"] for s in pools.read_manifest(local, "src")["slots"]]
    assert inode(local, f"src/{name}") == inode(local, f"dst/{name}")


def test_names_that_may_share_storage():
    assert blobs.is_unique_name("p/" + blobs.new_image_name(7, ".jpg"))
    assert blobs.is_unique_name("p/" + blobs.new_mask_name(blobs.new_image_name(7, ".png")))
    assert blobs.is_unique_name("p/thumbs/img_0001.png.webp")
    for key in ("p/img_0001.png", "p/img_0001.mask.png", "p/manifest.json", "p/x.png"):
        assert not blobs.is_unique_name(key), key


def test_an_s3_duplicate_is_one_copy_object_per_object(s3_spec):
    store = s3_spec.open()
    src = profile_with_images(store, 4)
    objects = [
        k for k in store.walk(src) if not k.endswith("manifest.json") and "/history/" not in k
    ]
    calls: list[str] = []
    body_bytes: list[int] = []

    def count(event_name, params=None, **kw):
        calls.append(event_name.rsplit(".", 1)[-1])

    def got(parsed=None, **kw):
        body_bytes.append(int((parsed or {}).get("ContentLength") or 0))

    client = store.fs.s3
    client.meta.events.register("before-call.s3", count)
    client.meta.events.register("after-call.s3.GetObject", got)
    try:
        dup = registry.duplicate_profile(store, src, "Copy")["id"]
    finally:
        client.meta.events.unregister("before-call.s3", count)
        client.meta.events.unregister("after-call.s3.GetObject", got)
    assert calls.count("CopyObject") == len(objects)
    # Per operation, not per object: the registry, the manifest, the staging marker,
    # one listing of the source, the registry's history entry.
    assert calls.count("ListObjectsV2") == 1 and "HeadObject" not in calls
    others = [c for c in calls if c != "CopyObject"]
    assert len(others) <= 9, others
    assert sum(body_bytes) < 4096  # documents only, no blob passed through this host
    for key in objects:
        assert store.read_bytes(dup + key[len(src) :]) == store.read_bytes(key)
    assert pools.pool_view(store, dup)["count"] == 4
