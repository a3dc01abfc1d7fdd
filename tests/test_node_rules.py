"""Which pool and which slot a pool node reads: the profile-link rule, the queue-time
pin, and index wrap-around (control_after_generate), on every backend."""

from __future__ import annotations

import io
import uuid

import pytest

torch = pytest.importorskip("torch")

from PIL import Image  # noqa: E402

from pool_profiles import pools, registry, slot_pick  # noqa: E402
from pool_profiles.nodes import GridImagePool, PoolProfile, runtime  # noqa: E402


def png(seed: int, size=(4, 3)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (seed * 40 % 256, 10, 200)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def node_store(store, tmp_path):
    runtime.set_store_provider(lambda: store)
    runtime.set_cache_dir(str(tmp_path / "blob-cache"))
    runtime.set_tensor_cache_bytes(0)
    yield store
    runtime.set_store_provider(None)
    runtime.set_cache_dir(None)
    runtime.set_tensor_cache_bytes(None)


def new_pool(store, labels) -> str:
    pid = "pool-" + uuid.uuid4().hex[:8]
    for i, label in enumerate(labels):
        pools.add_image(store, pid, png(i), label=label)
    return pid


def run(**kw):
    kw.setdefault("index", -1)
    return GridImagePool().run(**kw)[2:]


def test_input_types_carry_the_control_and_the_hidden_pin():
    spec = GridImagePool.INPUT_TYPES()
    assert spec["required"]["index"][1]["control_after_generate"] is True
    assert spec["optional"]["pin"] == ("STRING", {"default": "", "multiline": False})


# -- the profile-link rule --------------------------------------------------------------


def test_no_profile_picked_reads_the_nodes_own_pool(node_store):
    own = new_pool(node_store, ["own a", "own b"])
    (linked,) = PoolProfile().run(profile="", profile_id="")
    assert linked == ""
    assert run(pool_id=own, profile=linked) == (0, 2, "own a")  # not the empty "default"


def test_link_removed_reads_the_nodes_own_pool(node_store):
    own = new_pool(node_store, ["own"])
    assert run(pool_id=own) == (0, 1, "own")  # ComfyUI leaves the input out


def test_a_profile_deleted_elsewhere_is_an_error_naming_it(node_store):
    own = new_pool(node_store, ["own"])
    entry = registry.create_profile(node_store, "Gone soon")
    pools.add_image(node_store, entry["id"], png(1), label="in profile")
    assert run(pool_id=own, profile=PoolProfile().run("Gone soon", entry["id"])[0])[2] == (
        "in profile"
    )
    registry.delete_profile(node_store, entry["id"])
    before = sorted(node_store.listdir(own), key=lambda e: e.name)
    with pytest.raises(runtime.PoolNodeError, match=rf"profile '{entry['id']}' \('Gone soon'\)"):
        PoolProfile().run(profile="Gone soon", profile_id=entry["id"])
    # An API prompt that hands the id straight to the pool node (as in a queue, its
    # IS_CHANGED checks the pool first): the deleted profile's pool is kept by history
    # for "Recently deleted", and read; with history off it is gone, and the same one
    # line names it.
    GridImagePool.IS_CHANGED(index=-1, pool_id=own, profile=entry["id"])
    assert run(pool_id=own, profile=entry["id"])[2] == "in profile"
    assert sorted(node_store.listdir(own), key=lambda e: e.name) == before


def test_a_profile_deleted_with_history_off_is_an_error_naming_it(node_store, monkeypatch):
    monkeypatch.setenv("POOL_PROFILES_HISTORY_VERSIONS", "0")
    own = new_pool(node_store, ["own"])
    entry = registry.create_profile(node_store, "Gone at once")
    pools.add_image(node_store, entry["id"], png(1), label="in profile")
    registry.delete_profile(node_store, entry["id"])
    GridImagePool.IS_CHANGED(index=-1, pool_id=own, profile=entry["id"])
    with pytest.raises(runtime.PoolNodeError, match=rf"profile '{entry['id']}' no longer exists"):
        run(pool_id=own, profile=entry["id"])


def test_an_empty_profile_is_an_empty_pool_not_an_error(node_store):
    entry = registry.create_profile(node_store, "Empty")
    (pid,) = PoolProfile().run(profile="Empty", profile_id=entry["id"])
    assert run(pool_id="own", profile=pid) == (-1, 0, "")


def test_profile_node_is_changed_with_no_profile_is_constant(node_store):
    assert PoolProfile.IS_CHANGED(profile="", profile_id="") == "none"


# -- index wraps around -----------------------------------------------------------------


def test_increment_walks_the_pool_and_wraps(node_store):
    pid = new_pool(node_store, ["a", "b", "c"])
    assert [run(pool_id=pid, index=i)[2] for i in range(7)] == list("abcabca")
    assert run(pool_id=pid, index=1_000_000)[0] == 1_000_000 % 3
    assert run(pool_id=pid, index=-1)[0] == 0  # -1 stays the active slot


# -- the pin ------------------------------------------------------------------------------


def pin_of(store, pid, index) -> str:
    return slot_pick.make_pin(pools.current_manifest(store, pid)["slots"][index])


def test_pinned_slot_runs_whatever_changed_after_queueing(node_store):
    pid = new_pool(node_store, ["s0", "s1", "s2", "s3", "s4", "s5"])
    pools.set_active(node_store, pid, 2)
    pin = pin_of(node_store, pid, 2)  # what the UI writes when it queues
    pools.set_active(node_store, pid, 5)  # the user picks slot 5 meanwhile
    assert run(pool_id=pid, pin=pin) == (2, 6, "s2")
    pools.reorder(node_store, pid, [2, 0, 1, 3, 4, 5])  # ... and moves it
    pools.add_image(node_store, pid, png(9), label="new")
    assert run(pool_id=pid, pin=pin) == (0, 7, "s2")
    # An explicit index wins over a pin; no pin: the active slot when it runs.
    assert run(pool_id=pid, index=1, pin=pin)[2] == "s0"
    assert run(pool_id=pid) == (5, 7, "s5")


def test_a_pinned_slot_deleted_before_the_run_fails_naming_it(node_store):
    pid = new_pool(node_store, ["keep", "front, red"])
    pin = pin_of(node_store, pid, 1)
    pools.remove_slot(node_store, pid, 1)
    with pytest.raises(runtime.PoolNodeError) as err:
        run(pool_id=pid, pin=pin)
    message = err.value.message
    assert "\n" not in message and "'front, red'" in message and "deleted" in message
    # IS_CHANGED never caches that failure.
    token = GridImagePool.IS_CHANGED(index=-1, pool_id=pid, pin=pin)
    assert token != token  # NaN


def test_earlier_slots_without_an_id_are_pinned_by_their_image(node_store):
    pid = new_pool(node_store, ["a", "b"])
    doc = pools.current_manifest(node_store, pid)
    image_b = doc["slots"][1]["image"]
    # An earlier-pack manifest: no "id" keys.
    import json

    raw = json.loads(node_store.read_bytes(f"{pid}/manifest.json"))
    for slot in raw["slots"]:
        slot.pop("id", None)
    node_store.write_bytes(f"{pid}/manifest.json", json.dumps(raw).encode())
    assert pools.pool_view(node_store, pid)["slots"][1]["id"] == image_b
    assert run(pool_id=pid, pin=image_b) == (1, 2, "b")
    # A pin made from the image name still finds the slot once it has an id.
    pid2 = new_pool(node_store, ["x", "y"])
    img = pools.current_manifest(node_store, pid2)["slots"][1]["image"]
    assert run(pool_id=pid2, pin=img) == (1, 2, "y")


def test_the_pin_does_not_rerun_unchanged_prompts(node_store):
    pid = new_pool(node_store, ["a", "b"])
    pin = pin_of(node_store, pid, 0)
    t0 = GridImagePool.IS_CHANGED(index=-1, pool_id=pid, pin=pin)
    assert GridImagePool.IS_CHANGED(index=-1, pool_id=pid, pin=pin) == t0
    pools.set_active(node_store, pid, 1)  # the pinned run still outputs slot 0
    assert GridImagePool.IS_CHANGED(index=-1, pool_id=pid, pin=pin) == t0
    pools.set_label(node_store, pid, 0, "a2")  # its output changed
    assert GridImagePool.IS_CHANGED(index=-1, pool_id=pid, pin=pin) != t0


@pytest.fixture
def count_requests(node_store, monkeypatch):
    """Every Store call a run makes (each is one request on a remote store)."""
    calls: list[str] = []
    kind = type(node_store)
    for name in (
        "read_if_changed",
        "read_bytes",
        "listdir",
        "exists",
        "size",
        "open_read",
        "read_versioned",
        "version",
    ):
        real = getattr(kind, name)

        def wrapper(self, *a, _real=real, _name=name, **kw):
            calls.append(_name)
            return _real(self, *a, **kw)

        monkeypatch.setattr(kind, name, wrapper)
    return calls


def test_pin_and_wrap_add_no_storage_request(node_store, count_requests):
    pid = new_pool(node_store, ["a", "b", "c"])
    pin = pin_of(node_store, pid, 2)
    run(pool_id=pid)  # warm: manifest known, blob cached
    run(pool_id=pid, index=2)
    counts = {}
    for name, kw in {
        "active": {},
        "fixed": {"index": 2},
        "wrapped": {"index": 5},
        "pinned": {"pin": pin},
    }.items():
        count_requests.clear()
        GridImagePool.IS_CHANGED(pool_id=pid, **{"index": -1, **kw})
        run(pool_id=pid, **kw)
        counts[name] = len(count_requests)
    assert len(set(counts.values())) == 1, counts


def test_the_list_route_shows_each_slots_identity():
    from pool_profiles.server.conditional import encode_body, encode_view

    slots = [
        {"id": "abc123", "image": "img_0001_aa.png", "mask": None, "label": "", "added": 1},
        {"image": "img_0002.png", "mask": None, "label": "old", "added": 2.5},  # no id
        {"id": "../x", "image": "img_0003.png", "mask": None, "label": "", "added": 0},
        {"id": 5, "image": "img_0004.png", "mask": None, "label": "", "added": 0},
    ]
    manifest = {"active": 0, "next_seq": 5, "slots": slots}
    for _ in range(2):  # the memo answers the second time
        assert encode_view("p", manifest) == encode_body(pools.view_of("p", manifest))
    ids = [s["id"] for s in pools.view_of("p", manifest)["slots"]]
    assert ids == ["abc123", "img_0002.png", "img_0003.png", "img_0004.png"]
