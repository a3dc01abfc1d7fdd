"""The manifest's fast paths stay correct: one read and one write per change, routes
answer from the manifest they wrote, cached manifests follow other writers, and
earlier-pack manifests (indent=2, missing keys) still load and keep unknown keys."""

from __future__ import annotations

import json

import pytest
from images import png

from pool_profiles import manifest as manifest_mod
from pool_profiles import pools
from pool_profiles.backends import open_store
from pool_profiles.blobs import check_blob_name
from pool_profiles.errors import CorruptDataError, ValidationError
from pool_profiles.manifest import check_manifest, current_manifest
from pool_profiles.server.app import make_app

P = "pool1"


@pytest.fixture
def store(tmp_path):
    return open_store(str(tmp_path / "store"))


def count_requests(store, monkeypatch) -> list[str]:
    calls: list[str] = []
    for name in ("read_versioned", "read_if_changed", "write_if", "read_bytes", "listdir"):
        real = getattr(store, name)

        def spy(*args, _real=real, _name=name, **kw):
            calls.append(_name)
            return _real(*args, **kw)

        monkeypatch.setattr(store, name, spy)
    return calls


@pytest.mark.parametrize(
    "change",
    [
        lambda s: pools.set_active(s, P, 2),
        lambda s: pools.set_label(s, P, 1, "hello"),
        lambda s: pools.reorder(s, P, [2, 0, 1]),
        lambda s: pools.remove_slot(s, P, 0),
    ],
)
def test_a_change_is_one_read_and_one_write(store, monkeypatch, change):
    for i in range(3):
        pools.add_image(store, P, png((i, 0, 0)))
    calls = count_requests(store, monkeypatch)
    written = change(store)
    assert calls == ["read_versioned", "write_if"]
    # What the change returns is what is stored.
    assert written == json.loads(store.fs.cat_file(store.path(f"{P}/manifest.json")))


def test_a_change_that_changes_nothing_writes_nothing(store, monkeypatch):
    pools.add_image(store, P, png())
    pools.set_active(store, P, 0)
    calls = count_requests(store, monkeypatch)
    pools.set_active(store, P, 0)
    assert calls == ["read_versioned"]


@pytest.mark.asyncio
async def test_routes_answer_from_the_manifest_they_wrote(aiohttp_client, store, monkeypatch):
    for i in range(3):
        pools.add_image(store, P, png((i, 0, 0)))
    client = await aiohttp_client(make_app(store))
    calls = count_requests(store, monkeypatch)
    resp = await client.post("/grid_pool/label", json={"pool_id": P, "index": 1, "label": "x"})
    body = await resp.json()
    assert resp.status == 200, body
    assert calls == ["read_versioned", "write_if"]
    assert body.pop("history")["description"] == "labelled slot 1 “x”"  # its version
    image = pools.current_manifest(store, P)["slots"][1]["image"]
    assert body == {
        "pool_id": P,
        "change": "label",
        "active": 0,
        "count": 3,
        "index": 1,
        "image": image,
        "label": "x",
    }
    resp = await client.get(f"/grid_pool/list?pool_id={P}")
    listed = await resp.json()
    assert listed["slots"][1]["label"] == "x" and listed["count"] == 3


def test_adding_reads_and_writes_the_manifest_once(store, monkeypatch):
    pools.add_image(store, P, png())
    pools.set_label(store, P, 0, "changed since any cached read")
    calls = count_requests(store, monkeypatch)
    written: dict = {}
    slot = pools.add_image(store, P, png((0, 9, 0)), written=written)
    assert calls == ["read_versioned", "write_if"]
    assert written["doc"]["slots"][slot["index"]]["image"] == slot["image"]
    # The seq in the blob's name came from the manifest that update read.
    assert slot["image"].startswith("img_0002_") and written["doc"]["next_seq"] == 3


def test_cached_manifest_follows_another_writer(tmp_path):
    root = str(tmp_path / "shared")
    here, there = open_store(root), open_store(root)  # two processes' stores
    pools.add_image(here, P, png())
    assert pools.pool_view(here, P)["count"] == 1
    pools.add_image(there, P, png((0, 0, 9)))
    pools.set_label(there, P, 0, "from elsewhere")
    view = pools.pool_view(here, P)
    assert view["count"] == 2 and view["slots"][0]["label"] == "from elsewhere"


def test_cached_manifest_is_not_changed_by_updates(store):
    pools.add_image(store, P, png())
    cached = current_manifest(store, P)
    pools.set_label(store, P, 0, "new")
    assert cached["slots"][0]["label"] == ""  # the update worked on its own parse
    assert current_manifest(store, P)["slots"][0]["label"] == "new"


def test_earlier_pack_manifest_loads_and_is_rewritten_compact(store):
    pools.add_image(store, P, png())
    image = current_manifest(store, P)["slots"][0]["image"]
    earlier = {"active": 0, "slots": [{"image": image, "mask": None, "label": "a"}], "x": 1}
    store.write_bytes(f"{P}/manifest.json", json.dumps(earlier, indent=2).encode())
    assert pools.pool_view(store, P)["slots"][0]["label"] == "a"
    pools.set_label(store, P, 0, "b")
    raw = store.read_bytes(f"{P}/manifest.json")
    assert b"\n" not in raw
    doc = json.loads(raw)
    assert doc["x"] == 1 and doc["slots"][0]["label"] == "b" and doc["next_seq"] >= 1


def test_blob_names_found_good_do_not_excuse_bad_ones():
    assert check_blob_name("img_0001_ab.png") == "img_0001_ab.png"
    for bad in ("../img_0001_ab.png", "img_0001_ab.png/", "CON.png", 5, None):
        with pytest.raises(ValidationError):
            check_blob_name(bad)

    class Sneaky(str):
        pass

    assert check_blob_name(Sneaky("img_0001_ab.png")) == "img_0001_ab.png"


def test_a_known_good_manifest_skips_the_name_checks(store, monkeypatch):
    for i in range(3):
        pools.add_image(store, P, png((i, 0, 0)))
    raw = store.read_bytes(f"{P}/manifest.json")
    checked: list[object] = []
    real = manifest_mod.check_blob_name
    monkeypatch.setattr(manifest_mod, "check_blob_name", lambda n: checked.append(n) or real(n))
    doc = manifest_mod.check_manifest(store, P, raw)
    assert len(doc["slots"]) == 3 and checked == []  # every name was found good before


@pytest.mark.parametrize(
    "damage, fixed",
    [
        ({"added": float("nan")}, {"added": 0}),
        ({"added": True}, {"added": 0}),
        ({"added": float("inf")}, {"added": 0}),
        ({"added": float("-inf")}, {"added": 0}),
        ({"added": None}, {"added": 0}),
        ({"added": "yesterday"}, {"added": 0}),
        ({"label": None}, {"label": ""}),
        ({"label": 7}, {"label": "7"}),
        ({"mask": ""}, {"mask": None}),
    ],
)
def test_the_fast_check_hands_odd_slots_to_the_full_one(store, damage, fixed):
    for i in range(3):
        pools.add_image(store, P, png((i, 0, 0)))
    doc = json.loads(store.read_bytes(f"{P}/manifest.json"))
    doc["slots"][2].update(damage)
    raw = json.dumps(doc).encode()
    slot = check_manifest(store, P, raw)["slots"][2]
    assert {k: slot[k] for k in fixed} == fixed


@pytest.mark.parametrize("odd", [1.7e308, -1.7e308, 10**400, 3])
def test_the_fast_check_keeps_odd_but_good_numbers(store, odd):
    # Huge numbers can overflow the fast check's sum; the full check then keeps them.
    for i in range(3):
        pools.add_image(store, P, png((i, 0, 0)))
    doc = json.loads(store.read_bytes(f"{P}/manifest.json"))
    doc["slots"][0]["added"] = odd
    doc["slots"][1]["added"] = odd
    assert check_manifest(store, P, json.dumps(doc).encode())["slots"][1]["added"] == odd


@pytest.mark.parametrize("key", ["label", "added", "mask"])
def test_the_fast_check_fills_a_missing_key(store, key):
    for i in range(2):
        pools.add_image(store, P, png((i, 0, 0)))
    doc = json.loads(store.read_bytes(f"{P}/manifest.json"))
    del doc["slots"][1][key]
    slot = check_manifest(store, P, json.dumps(doc).encode())["slots"][1]
    assert slot[key] == {"label": "", "added": 0, "mask": None}[key]


@pytest.mark.parametrize(
    "bad", ["../../x.png", ["img_0001_ab.png"], {"a": 1}, 5, "CON.png", "img_0001_ab.txt"]
)
def test_the_fast_check_never_excuses_a_bad_name(store, bad):
    for i in range(2):
        pools.add_image(store, P, png((i, 0, 0)))
    doc = json.loads(store.read_bytes(f"{P}/manifest.json"))
    for field in ("image", "mask"):
        damaged = json.loads(json.dumps(doc))
        damaged["slots"][1][field] = bad
        with pytest.raises(CorruptDataError):
            check_manifest(store, P, json.dumps(damaged).encode())
