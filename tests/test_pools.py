"""pools: manifests, blobs, masks, thumbnails on every backend; missing, corrupt,
hostile and earlier-pack data."""

from __future__ import annotations

import io
import json
import logging
import os
import threading
import time
import uuid

import pytest
from PIL import Image

from pool_profiles import pools
from pool_profiles.backends import open_store
from pool_profiles.errors import (
    CorruptDataError,
    NotFoundError,
    StorageError,
    TooLargeError,
    ValidationError,
)
from pool_profiles.imaging import ImageLimits
from pool_profiles.testing.spec import StoreSpec

P = "pool1"


def encode(img: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def png(color=(255, 0, 0), size=(8, 6)) -> bytes:
    return encode(Image.new("RGB", size, color))


def mask_png(value: int = 255) -> bytes:
    return encode(Image.new("L", (8, 6), value))


def manifest_raw(store, pool_id=P):
    return json.loads(store.read_bytes(f"{pool_id}/manifest.json"))


def write_manifest(store, doc, pool_id=P) -> None:
    raw = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    store.write_bytes(f"{pool_id}/manifest.json", raw)


def blobs(store, pool_id=P) -> list[str]:
    return [k.split("/", 1)[1] for k in store.walk(pool_id)]


@pytest.fixture
def mem():
    return StoreSpec(f"memory://pools-{uuid.uuid4().hex[:12]}").open()


@pytest.fixture
def three(store):
    for i, c in enumerate([(255, 0, 0), (0, 255, 0), (0, 0, 255)]):
        pools.add_image(store, P, png(c), label=f"l{i}", ts=i)
    return store


# -- names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["img_0001.png", "img_0001.mask.png", "a.JPG", "x-y_z.jpeg", "_.webp", "9.png"]
)
def test_good_blob_names(name):
    assert pools.check_blob_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "../x.png",
        "../../x.png",
        "/etc/x.png",
        "a/b.png",
        "a\\b.png",
        "..png",
        "a..b.png",
        ".hidden.png",
        "-x.png",
        "x.txt",
        "manifest.json",
        "x.png\n",
        "CON.png",
        "nul.jpg",
        "com1.mask.png",
        "",
        "a" * 130 + ".png",
        None,
        5,
        ["x.png"],
    ],
)
def test_bad_blob_names(name):
    with pytest.raises(ValidationError):
        pools.check_blob_name(name)


def test_blob_key_checks_both_parts():
    assert pools.blob_key("p", "img_0001.png") == "p/img_0001.png"
    with pytest.raises(ValidationError):
        pools.blob_key("../p", "img_0001.png")
    with pytest.raises(ValidationError):
        pools.blob_key("p", "../img_0001.png")


# -- resolve_index -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("active", "index", "expected"),
    [(1, -1, 1), (1, 0, 0), (1, 2, 2), (1, 99, 0), (1, 4, 1), (1, -7, 1), (9, -1, 2), ("x", -1, 0)],
)
def test_resolve_index(active, index, expected):
    m = {"active": active, "slots": [{}, {}, {}]}
    assert pools.resolve_index(m, index) == expected


def test_resolve_index_empty():
    assert pools.resolve_index({"active": 0, "slots": []}, -1) is None
    assert pools.resolve_index({"active": 0, "slots": []}, 3) is None


# -- listing -----------------------------------------------------------------------


def test_unknown_pool_lists_empty(store):
    assert pools.pool_view(store, "nobody") == {
        "pool_id": "nobody",
        "active": 0,
        "count": 0,
        "slots": [],
    }
    assert store.walk("nobody") == []


@pytest.mark.parametrize("bad", ["../x", "", "a/b", "x" * 65])
def test_bad_pool_ids(mem, bad):
    for call in (
        lambda: pools.pool_view(mem, bad),
        lambda: pools.add_image(mem, bad, png()),
        lambda: pools.remove_slot(mem, bad, 0),
        lambda: pools.read_blob(mem, bad, "img_0001.png"),
        lambda: pools.change_token(mem, bad, -1),
    ):
        with pytest.raises(ValidationError):
            call()


# -- add ---------------------------------------------------------------------------


def test_add_image(store):
    data = png()
    slot = pools.add_image(store, P, data, label=" first ", ts=3)
    assert slot["index"] == 0 and slot["label"] == "first" and slot["added"] == 3.0
    assert slot["mask"] is None and slot["image"].endswith(".png")
    assert pools.read_blob(store, P, slot["image"]) == data  # stored as uploaded
    assert store.exists(f"{P}/thumbs/{slot['image']}.webp")
    view = pools.pool_view(store, P)
    assert view["count"] == 1 and view["active"] == 0
    assert len(slot["id"]) == 32  # a stable identity (slot_pick), kept by every change
    assert view["slots"][0] == {
        "index": 0,
        "id": slot["id"],
        "image": slot["image"],
        "mask": None,
        "label": "first",
        "added": 3.0,
        "has_mask": False,
    }


def test_add_appends_with_unique_names_and_keeps_the_active_slot(store):
    names = []
    for i in range(3):
        slot = pools.add_image(store, P, png())  # identical bytes each time
        assert slot["index"] == i
        names.append(slot["image"])
    assert len(set(names)) == 3
    m = pools.read_manifest(store, P)
    assert m["active"] == 0 and m["next_seq"] == 4  # the first image became active
    assert [s["image"] for s in m["slots"]] == names
    pools.set_active(store, P, 1)
    pools.add_image(store, P, png())
    # Another instance's add must not change what every pool node outputs.
    assert pools.read_manifest(store, P)["active"] == 1


@pytest.mark.parametrize(("fmt", "ext"), [("JPEG", ".jpg"), ("WEBP", ".webp"), ("BMP", ".png")])
def test_add_formats(mem, fmt, ext):
    slot = pools.add_image(mem, P, encode(Image.new("RGB", (5, 5)), fmt))
    assert slot["image"].endswith(ext)


@pytest.mark.parametrize(
    ("data", "limits", "error"),
    [
        (b"not an image", None, ValidationError),
        (png(size=(20, 20)), ImageLimits(max_pixels=100), ValidationError),
        (png(), ImageLimits(max_bytes=10), TooLargeError),
    ],
    ids=["garbage", "pixels", "bytes"],
)
def test_add_refused_stores_nothing(store, data, limits, error):
    with pytest.raises(error):
        pools.add_image(store, P, data, limits=limits)
    assert store.walk("") == []


def test_add_bad_label_stores_nothing(mem):
    with pytest.raises(ValidationError):
        pools.add_image(mem, P, png(), label="x" * 500)
    assert mem.walk("") == []


def test_add_deletes_blob_when_manifest_update_fails(store, monkeypatch):
    pools.add_image(store, P, png())
    before = blobs(store)

    def broken(*a, **kw):
        raise StorageError("manifest write failed")

    monkeypatch.setattr(pools, "update_manifest", broken)
    with pytest.raises(StorageError):
        pools.add_image(store, P, png((1, 2, 3)))
    monkeypatch.undo()
    assert blobs(store) == before


# -- remove ------------------------------------------------------------------------


def test_remove_slot_deletes_its_blobs(three, monkeypatch):
    monkeypatch.setenv("POOL_PROFILES_HISTORY_VERSIONS", "0")  # the no-history behaviour
    store = three
    m = pools.read_manifest(store, P)
    gone = m["slots"][1]["image"]
    pools.set_mask(store, P, 1, mask_png())
    gone_mask = pools.read_manifest(store, P)["slots"][1]["mask"]
    out = pools.remove_slot(store, P, 1)
    assert [s["label"] for s in out["slots"]] == ["l0", "l2"]
    left = blobs(store)
    assert gone not in left and gone_mask not in left and f"thumbs/{gone}.webp" not in left
    assert m["slots"][0]["image"] in left


@pytest.mark.parametrize(
    ("active", "remove", "expected"), [(2, 0, 1), (0, 2, 0), (1, 1, 1), (2, 2, 1), (0, 0, 0)]
)
def test_remove_keeps_active_sensible(mem, active, remove, expected):
    for _ in range(3):
        pools.add_image(mem, P, png())
    pools.set_active(mem, P, active)
    assert pools.remove_slot(mem, P, remove)["active"] == expected


def test_remove_last_slot(mem):
    pools.add_image(mem, P, png())
    out = pools.remove_slot(mem, P, 0)
    assert out["slots"] == [] and out["active"] == 0
    assert pools.pool_view(mem, P)["count"] == 0
    with pytest.raises(ValidationError) as err:
        pools.remove_slot(mem, P, 0)
    assert err.value.code == "bad_index"


def test_remove_never_deletes_a_shared_blob(store, monkeypatch):
    monkeypatch.setenv("POOL_PROFILES_HISTORY_VERSIONS", "0")  # the no-history behaviour
    pools.add_image(store, P, png())
    m = manifest_raw(store)
    pools.set_mask(store, P, 0, mask_png())
    m = manifest_raw(store)
    m["slots"].append(dict(m["slots"][0], label="twin"))  # e.g. from an older tool
    write_manifest(store, m)
    pools.remove_slot(store, P, 0)
    slot = pools.read_manifest(store, P)["slots"][0]
    assert pools.read_blob(store, P, slot["image"])
    assert pools.read_blob(store, P, slot["mask"])
    pools.set_mask(store, P, 0, None)  # now nothing else uses the mask
    assert slot["mask"] not in blobs(store)


def check_bad_index(store, index) -> None:
    before = manifest_raw(store)
    for call in (
        lambda: pools.remove_slot(store, P, index),
        lambda: pools.set_active(store, P, index),
        lambda: pools.set_label(store, P, index, "x"),
        lambda: pools.set_mask(store, P, index, mask_png()),
    ):
        with pytest.raises(ValidationError) as err:
            call()
        assert err.value.code == "bad_index"
    assert not [b for b in blobs(store) if ".mask" in b]  # no stray mask blob
    assert manifest_raw(store) == before


def test_bad_index_all_backends(three):
    check_bad_index(three, 3)


@pytest.mark.parametrize("index", [-1, 3, 99, True, "1", 1.0, None])
def test_bad_indexes(mem, index):
    for _ in range(3):
        pools.add_image(mem, P, png())
    check_bad_index(mem, index)


def test_mutating_unknown_pool_is_not_found(mem):
    for call in (
        lambda: pools.remove_slot(mem, "ghost", 0),
        lambda: pools.set_active(mem, "ghost", 0),
        lambda: pools.set_label(mem, "ghost", 0, "x"),
        lambda: pools.reorder(mem, "ghost", []),
        lambda: pools.set_mask(mem, "ghost", 0, mask_png()),
        lambda: pools.set_mask(mem, "ghost", 0, None),
    ):
        with pytest.raises(NotFoundError):
            call()
    assert mem.walk("") == []
    with pytest.raises(NotFoundError):
        pools.read_blob(mem, "ghost", "img_0001.png")


# -- active / label / reorder ------------------------------------------------------


def test_set_active_and_label(three):
    assert pools.set_active(three, P, 0)["active"] == 0
    out = pools.set_label(three, P, 2, "  new label ")
    assert out["slots"][2]["label"] == "new label"
    assert pools.pool_view(three, P)["slots"][2]["label"] == "new label"
    assert pools.set_label(three, P, 2, "")["slots"][2]["label"] == ""


@pytest.mark.parametrize("label", ["x" * 201, "a\x00b", 5])
def test_bad_labels(mem, label):
    pools.add_image(mem, P, png())
    with pytest.raises(ValidationError):
        pools.set_label(mem, P, 0, label)


def test_reorder_moves_slots_and_active_follows(three):
    pools.set_active(three, P, 0)  # the red one, label l0
    out = pools.reorder(three, P, [2, 0, 1])
    assert [s["label"] for s in out["slots"]] == ["l2", "l0", "l1"]
    assert out["active"] == 1
    assert pools.reorder(three, P, [0, 1, 2])["active"] == 1  # identity is a no-op


@pytest.mark.parametrize(
    "order", [[0, 1], [0, 1, 2, 3], [0, 0, 1], [0, 1, 3], [-1, 0, 1], "012", [0, 1, "2"], None]
)
def test_reorder_must_be_a_permutation(mem, order):
    for _ in range(3):
        pools.add_image(mem, P, png())
    before = manifest_raw(mem)
    with pytest.raises(ValidationError):
        pools.reorder(mem, P, order)
    assert manifest_raw(mem) == before


# -- masks -------------------------------------------------------------------------


def test_set_mask_normalises_and_replaces(store, monkeypatch):
    monkeypatch.setenv("POOL_PROFILES_HISTORY_VERSIONS", "0")  # the no-history behaviour
    pools.add_image(store, P, png())
    painted = encode(Image.new("RGBA", (8, 6), (0, 0, 0, 0)))  # MaskEditor: alpha 0
    first = pools.set_mask(store, P, 0, painted)["slots"][0]["mask"]
    with Image.open(io.BytesIO(pools.read_blob(store, P, first))) as img:
        assert img.mode == "L" and img.getpixel((0, 0)) == 255
    assert pools.pool_view(store, P)["slots"][0]["has_mask"] is True
    second = pools.set_mask(store, P, 0, mask_png(0))["slots"][0]["mask"]
    assert second != first  # a new name per write: readers never see a half-new mask
    assert first not in blobs(store) and second in blobs(store)
    cleared = pools.set_mask(store, P, 0, None)
    assert cleared["slots"][0]["mask"] is None
    assert second not in blobs(store)
    assert pools.pool_view(store, P)["slots"][0]["has_mask"] is False


def test_set_mask_of_an_opaque_rgba_png_keeps_its_painted_pixels(mem):
    # The earlier pack's mask format uploaded as is: alpha 255 everywhere, white = painted.
    pools.add_image(mem, P, png())
    layer = Image.new("RGBA", (8, 6), (0, 0, 0, 255))
    for x in range(3):
        layer.putpixel((x, 0), (255, 255, 255, 255))
    name = pools.set_mask(mem, P, 0, encode(layer))["slots"][0]["mask"]
    with Image.open(io.BytesIO(pools.read_blob(mem, P, name))) as img:
        row = [img.getpixel((x, 0)) for x in range(8)]
        assert row == [255, 255, 255, 0, 0, 0, 0, 0] and img.getpixel((0, 5)) == 0


def test_masks_are_per_slot(mem):
    pools.add_image(mem, P, png())
    pools.add_image(mem, P, png())
    pools.set_mask(mem, P, 1, mask_png())
    slots = pools.read_manifest(mem, P)["slots"]
    assert slots[0]["mask"] is None and slots[1]["mask"]


def test_bad_mask_upload_stores_nothing(mem):
    pools.add_image(mem, P, png())
    before = blobs(mem)
    with pytest.raises(ValidationError):
        pools.set_mask(mem, P, 0, b"garbage")
    with pytest.raises(TooLargeError):
        pools.set_mask(mem, P, 0, mask_png(), limits=ImageLimits(max_bytes=4))
    assert blobs(mem) == before


def test_set_mask_failure_removes_new_blob(mem, monkeypatch):
    pools.add_image(mem, P, png())
    before = blobs(mem)

    def broken(*a, **kw):
        raise StorageError("boom")

    monkeypatch.setattr(pools, "update_manifest", broken)
    with pytest.raises(StorageError):
        pools.set_mask(mem, P, 0, mask_png())
    monkeypatch.undo()
    assert blobs(mem) == before


@pytest.mark.parametrize("race", ["reorder", "remove"])
def test_set_mask_racing_a_reorder_never_lands_on_another_image(mem, monkeypatch, race):
    # The mask was painted on image A. If A's slot moves (or goes) between set_mask
    # reading the pool and writing the manifest, the mask must not land on image B.
    a = pools.add_image(mem, P, png())["image"]
    b = pools.add_image(mem, P, png((0, 0, 255)))["image"]
    real_write = mem.write_bytes

    def write_bytes(key, data):
        real_write(key, data)
        if ".mask-" in key:  # the mask blob is stored; now someone else edits the pool
            if race == "reorder":
                pools.reorder(mem, P, [1, 0])
            else:
                pools.remove_slot(mem, P, 0)

    monkeypatch.setattr(mem, "write_bytes", write_bytes)
    try:
        pools.set_mask(mem, P, 0, mask_png())
    except (NotFoundError, ValidationError):
        assert race == "remove"  # the painted image is gone: refusing is right
    monkeypatch.undo()
    by_image = {s["image"]: s for s in pools.read_manifest(mem, P)["slots"]}
    assert by_image[b]["mask"] is None
    if race == "reorder":
        assert by_image[a]["mask"]
    assert [n for n in blobs(mem) if ".mask" in n] == [
        s["mask"] for s in by_image.values() if s["mask"]
    ]


# -- blobs and thumbnails ----------------------------------------------------------


def test_thumbnail_made_once_when_missing(store, monkeypatch):
    name = pools.add_image(store, P, png(size=(600, 300)))["image"]
    key = f"{P}/thumbs/{name}.webp"
    store.delete(key)
    thumb = pools.thumbnail(store, P, name)
    with Image.open(io.BytesIO(thumb)) as img:
        assert img.format == "WEBP" and max(img.size) <= 256
    assert store.read_bytes(key) == thumb

    def never(*a, **kw):
        raise AssertionError("thumbnail made twice")

    monkeypatch.setattr(pools, "make_thumbnail", never)
    assert pools.thumbnail(store, P, name) == thumb


def test_thumbnail_and_blob_of_missing_image(mem):
    with pytest.raises(NotFoundError):
        pools.thumbnail(mem, P, "img_0001.png")
    with pytest.raises(ValidationError):
        pools.thumbnail(mem, P, "../../x.png")


# -- change token ------------------------------------------------------------------


def test_change_token(store):
    pools.add_image(store, P, png())
    pools.add_image(store, P, png())
    pools.set_active(store, P, 1)
    t0 = pools.change_token(store, P, -1)
    assert pools.change_token(store, P, -1) == t0
    assert pools.change_token(store, P, 1) == t0  # slot 1 is the active one
    assert pools.change_token(store, P, 5) == t0  # wraps around to slot 1
    assert pools.change_token(store, P, 0) != t0
    pools.set_label(store, P, 1, "x")
    t1 = pools.change_token(store, P, -1)
    assert t1 != t0
    pools.set_mask(store, P, 1, mask_png())
    t2 = pools.change_token(store, P, -1)
    assert t2 not in (t0, t1)
    pools.set_label(store, P, 0, "other slot")
    assert pools.change_token(store, P, -1) == t2  # another slot changing is irrelevant
    pools.set_active(store, P, 0)
    assert pools.change_token(store, P, -1) != t2
    assert pools.change_token(store, "other", -1) != pools.change_token(store, "empty", -1)


def test_change_token_follows_the_count(store):
    # `count` is an output too: a fixed slot's token changes when another slot comes or goes.
    pools.add_image(store, P, png())
    t0 = pools.change_token(store, P, 0)
    pools.add_image(store, P, png())
    t1 = pools.change_token(store, P, 0)
    assert t1 != t0
    pools.remove_slot(store, P, 1)
    assert pools.change_token(store, P, 0) == t0


def test_change_token_is_one_read(mem, monkeypatch):
    pools.add_image(mem, P, png())
    calls = []
    real, real_if = mem.read_versioned, mem.read_if_changed
    monkeypatch.setattr(mem, "read_versioned", lambda k: calls.append(k) or real(k))
    monkeypatch.setattr(
        mem, "read_if_changed", lambda k, s: calls.append((k, s is not None)) or real_if(k, s)
    )
    monkeypatch.setattr(mem, "listdir", lambda *a: pytest.fail("listed"))
    pools.change_token(mem, P, -1)
    assert len(calls) == 1 and calls[0][0] == f"{P}/manifest.json"
    calls.clear()
    pools.change_token(mem, P, -1)  # unchanged: one conditional read, nothing parsed
    assert calls == [(f"{P}/manifest.json", True)]


# -- unknown keys, missing and corrupt manifests -----------------------------------


def test_unknown_keys_preserved(mem):
    pools.add_image(mem, P, png())
    m = manifest_raw(mem)
    m["owner"] = "team"
    m["slots"][0]["rating"] = 5
    write_manifest(mem, m)
    pools.set_label(mem, P, 0, "x")
    pools.add_image(mem, P, png())
    out = manifest_raw(mem)
    assert out["owner"] == "team" and out["slots"][0]["rating"] == 5


def test_missing_manifest_rebuilt_from_blobs(store):
    for name in ("img_0002.png", "img_0001.png", "img_0010_abcd1234.jpg"):
        store.write_bytes(f"{P}/{name}", png())
    store.write_bytes(f"{P}/img_0001.mask.png", mask_png())
    store.write_bytes(f"{P}/img_0002.mask-0123abcd.png", mask_png())
    store.write_bytes(f"{P}/notes.txt", b"not ours")
    m = pools.read_manifest(store, P)
    assert [(s["image"], s["mask"], s["label"]) for s in m["slots"]] == [
        ("img_0001.png", "img_0001.mask.png", ""),
        ("img_0002.png", "img_0002.mask-0123abcd.png", ""),
        ("img_0010_abcd1234.jpg", None, ""),
    ]
    assert m["next_seq"] == 11
    assert not store.exists(f"{P}/manifest.json")  # reading does not write
    pools.set_label(store, P, 2, "kept")  # the first change writes it
    assert manifest_raw(store)["slots"][2]["label"] == "kept"
    assert pools.add_image(store, P, png())["index"] == 3


REBUILT = "has no manifest; rebuilt"


def test_concurrent_first_adds_are_not_logged_as_a_lost_manifest(store, caplog):
    # A first add that finds another add's fresh blob (written, manifest not yet) adopts
    # it; that is no damage and must not read like it in the log.
    store.write_bytes(f"{P}/img_0001_0123abcd.png", png((0, 0, 255)))
    with caplog.at_level(logging.INFO, logger="pool_profiles"):
        pools.add_image(store, P, png())
        barrier = threading.Barrier(3)

        def add(color):
            barrier.wait()
            pools.add_image(store, "pool2", png(color))

        threads = [threading.Thread(target=add, args=((i, 0, 0),)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert pools.pool_view(store, P)["count"] == 2
    assert pools.pool_view(store, "pool2")["count"] == 3
    assert not [r for r in caplog.records if REBUILT in r.getMessage()]


def test_a_really_lost_manifest_is_logged(tmp_path, caplog):
    store = open_store(str(tmp_path / "store"))
    store.write_bytes(f"{P}/img_0001.png", png())
    old = time.time() - 3600
    os.utime(store.local_path(f"{P}/img_0001.png"), (old, old))
    with caplog.at_level(logging.INFO, logger="pool_profiles"):
        pools.add_image(store, P, png())
    assert [r for r in caplog.records if REBUILT in r.getMessage()]
    assert pools.pool_view(store, P)["count"] == 2


@pytest.mark.parametrize(
    "raw",
    [
        b'{"active": 0, "slots": [{"image": "img_0001.png", "lab',
        b'{"active": 0}',
        b'{"slots": "nope"}',
        b'{"slots": [5]}',
        b'{"slots": [{"mask": null}]}',
        b"[]",
        b'{"slots": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ],
    ids=["truncated", "no-slots", "slots-str", "slot-int", "no-image", "list", "too-deep"],
)
def test_corrupt_manifest_quarantined_never_rebuilt(mem, raw):
    check_corrupt_manifest(mem, raw)


def check_corrupt_manifest(store, raw: bytes) -> None:
    store.write_bytes(f"{P}/img_0001.png", png())
    write_manifest(store, raw)
    with pytest.raises(CorruptDataError) as err:
        pools.pool_view(store, P)
    copies = [e.name for e in store.listdir(P) if e.name.startswith("manifest.json.corrupt-")]
    assert len(copies) == 1 and copies[0] in str(err.value)
    assert store.read_bytes(f"{P}/{copies[0]}") == raw
    before = sorted(store.walk(P))
    for call in (
        lambda: pools.add_image(store, P, png()),
        lambda: pools.set_label(store, P, 0, "x"),
        lambda: pools.remove_slot(store, P, 0),
        lambda: pools.set_mask(store, P, 0, mask_png()),
        lambda: pools.change_token(store, P, -1),
    ):
        with pytest.raises(CorruptDataError):
            call()
    assert sorted(store.walk(P)) == before  # no blob left behind, nothing replaced
    assert store.read_bytes(f"{P}/manifest.json") == raw


def test_corrupt_manifest_all_backends(store):
    check_corrupt_manifest(store, b'{"active": 0, "slots": [{"image": "img_0001.png", "la')


# -- hostile names -----------------------------------------------------------------


HOSTILE = [
    {"image": "../../outside.png", "mask": None, "label": ""},
    {"image": "img_0001.png", "mask": "../../outside.png", "label": ""},
    {"image": "/tmp/outside.png", "mask": None, "label": ""},
    {"image": "sub/dir.png", "mask": None, "label": ""},
]


@pytest.mark.parametrize("bad", HOSTILE, ids=["image-up", "mask-up", "absolute", "subdir"])
def test_hostile_names_in_manifest_touch_nothing_outside(tmp_path, bad):
    outside = tmp_path / "outside.png"
    outside.write_bytes(b"precious")
    root = tmp_path / "store" / "grid_pool"
    store = open_store(str(root))
    store.write_bytes(f"{P}/img_0001.png", png())
    doc = {"active": 0, "next_seq": 2, "slots": [bad]}
    write_manifest(store, doc)
    for call in (
        lambda: pools.pool_view(store, P),
        lambda: pools.remove_slot(store, P, 0),
        lambda: pools.set_mask(store, P, 0, mask_png()),
        lambda: pools.set_mask(store, P, 0, None),
        lambda: pools.change_token(store, P, -1),
    ):
        with pytest.raises(CorruptDataError):
            call()
    assert outside.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outside.png", "store"]
    assert json.loads((root / P / "manifest.json").read_text()) == doc


def test_hostile_names_on_every_backend(store):
    write_manifest(store, {"active": 0, "slots": [HOSTILE[0]]})
    with pytest.raises(CorruptDataError):
        pools.remove_slot(store, P, 0)
    with pytest.raises(ValidationError):
        pools.read_blob(store, P, "../profiles.json")


# -- the earlier local-only pack ---------------------------------------------------


def test_earlier_pack_pool_dir_loads_unchanged(tmp_path):
    root = tmp_path / "input" / "grid_pool"
    pool = root / "3f1c0d2e-legacy"
    pool.mkdir(parents=True)
    (pool / "img_0001.png").write_bytes(png((255, 0, 0)))
    (pool / "img_0002.png").write_bytes(png((0, 255, 0)))
    (pool / "img_0001.mask.png").write_bytes(mask_png())
    legacy = {
        "active": 1,
        "next_seq": 3,
        "slots": [
            {"image": "img_0001.png", "mask": "img_0001.mask.png", "label": "red", "added": 1.5},
            {"image": "img_0002.png", "mask": None, "label": "green", "added": 2.5},
        ],
    }
    (pool / "manifest.json").write_text(json.dumps(legacy, indent=2))
    store = open_store(str(root))
    pid = "3f1c0d2e-legacy"

    view = pools.pool_view(store, pid)
    assert view["active"] == 1 and view["count"] == 2
    assert [(s["image"], s["mask"], s["label"], s["has_mask"]) for s in view["slots"]] == [
        ("img_0001.png", "img_0001.mask.png", "red", True),
        ("img_0002.png", None, "green", False),
    ]
    assert pools.read_manifest(store, pid) == legacy  # nothing to rewrite
    assert (pool / "manifest.json").read_text() == json.dumps(legacy, indent=2)
    assert pools.read_blob(store, pid, "img_0001.mask.png") == mask_png()
    pools.thumbnail(store, pid, "img_0001.png")  # made lazily
    assert (pool / "thumbs" / "img_0001.png.webp").exists()

    slot = pools.add_image(store, pid, png((0, 0, 255)), label="blue")
    assert slot["index"] == 2 and slot["image"].startswith("img_0003_")
    pools.set_mask(store, pid, 0, mask_png(0))
    # The replaced mask stays while history keeps the version that used it; the pool
    # gained history from its first change (the add).
    assert (pool / "img_0001.mask.png").exists()
    assert len(list((pool / "history").iterdir())) == 2
    out = json.loads((pool / "manifest.json").read_text())
    assert [s["label"] for s in out["slots"]] == ["red", "green", "blue"]
    assert out["next_seq"] == 4


def test_earlier_pack_pool_without_manifest(tmp_path):
    root = tmp_path / "grid_pool"
    (root / "p").mkdir(parents=True)
    (root / "p" / "img_0001.png").write_bytes(png())
    (root / "p" / "img_0001.mask.png").write_bytes(mask_png())
    store = open_store(str(root))
    view = pools.pool_view(store, "p")
    assert view["count"] == 1 and view["slots"][0]["has_mask"]


def test_hostile_numbers_in_a_manifest_do_not_break_adds_or_json(mem):
    # A hand-edited or imported manifest: NaN is not JSON for browsers, and a huge
    # next_seq made every new blob name too long, so nothing could be added again.
    name = "img_0001.png"
    mem.write_bytes(f"{P}/{name}", png())
    raw = '{"active": 0, "next_seq": 1%s, "slots": [{"image": "%s", "added": NaN}]}'
    write_manifest(mem, (raw % ("0" * 200, name)).encode())
    view = pools.pool_view(mem, P)
    json.dumps(view, allow_nan=False)  # what the routes send must parse in a browser
    slot = pools.add_image(mem, P, png((0, 255, 0)))
    assert slot["index"] == 1 and pools.check_blob_name(slot["image"])
    json.dumps(pools.pool_view(mem, P), allow_nan=False)
