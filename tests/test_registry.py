"""registry: profiles.json operations on every backend, corrupt and legacy data."""

from __future__ import annotations

import io
import json
import uuid

import pytest
from images import png
from PIL import Image

from pool_profiles import ids, pools, registry
from pool_profiles.errors import (
    ConflictError,
    CorruptDataError,
    NotFoundError,
    ValidationError,
)
from pool_profiles.testing.spec import StoreSpec

KEY = registry.REGISTRY_KEY


@pytest.fixture
def mem():
    """For rules that do not depend on the backend: keeps the S3 round trips down."""
    return StoreSpec(f"memory://reg-{uuid.uuid4().hex[:12]}").open()


def write_raw(store, doc) -> None:
    store.write_bytes(KEY, doc if isinstance(doc, bytes) else json.dumps(doc).encode())


def aside_copies(store) -> list[str]:
    return [e.name for e in store.listdir("") if e.name.startswith(KEY + ".corrupt-")]


# -- reading -----------------------------------------------------------------------


def test_missing_registry_is_empty(store):
    assert registry.list_profiles(store) == []
    assert registry.find_by_name(store, "x") is None
    assert not store.exists(KEY)  # reading never writes


def test_create_then_list_and_get(store):
    e = registry.create_profile(store, "  Set A  ", pid="id1", ts=5)
    assert e == {"id": "id1", "name": "Set A", "created": 5.0}
    assert registry.list_profiles(store) == [e]
    assert registry.get_profile(store, "id1") == e
    assert json.loads(store.read_bytes(KEY)) == {"profiles": [e]}


def test_create_generates_id_and_time(store):
    e = registry.create_profile(store, "x")
    assert len(e["id"]) == 32 and e["created"] > 0


def test_get_unknown_and_bad_ids(store):
    registry.create_profile(store, "a", pid="id1")
    with pytest.raises(NotFoundError):
        registry.get_profile(store, "nope")
    for bad in ("../x", "", "a/b", "x" * 65, None, "id1\n", "x\n"):
        with pytest.raises(ValidationError):
            registry.get_profile(store, bad)
    with pytest.raises(ValidationError):
        registry.create_profile(store, "b", pid="id2\n")


def test_find_by_name_ignores_case(store):
    registry.create_profile(store, "Portraits", pid="a")
    registry.create_profile(store, "Hands", pid="b")
    assert registry.find_by_name(store, "portraits")["id"] == "a"
    assert registry.find_by_name(store, " HANDS ")["id"] == "b"
    assert registry.find_by_name(store, "feet") is None
    assert registry.find_by_name(store, "") is None


# -- create ------------------------------------------------------------------------


def test_create_duplicate_name_conflicts(store):
    registry.create_profile(store, "dup", pid="a")
    with pytest.raises(ConflictError) as err:
        registry.create_profile(store, "DUP")
    assert err.value.code == "name_taken" and err.value.status == 409
    assert len(registry.list_profiles(store)) == 1


@pytest.mark.parametrize("name", ["dup", " Dup ", "dUP"])
def test_create_duplicate_name_variants(mem, name):
    registry.create_profile(mem, "dup", pid="a")
    with pytest.raises(ConflictError):
        registry.create_profile(mem, name)


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "a\nb", "tab\there", 7, None])
def test_create_bad_names(mem, name):
    with pytest.raises(ValidationError):
        registry.create_profile(mem, name)
    assert registry.list_profiles(mem) == []


def test_create_with_taken_or_bad_id(store):
    registry.create_profile(store, "a", pid="same")
    with pytest.raises(ConflictError) as err:
        registry.create_profile(store, "b", pid="same")
    assert err.value.code == "id_taken"
    with pytest.raises(ValidationError):
        registry.create_profile(store, "c", pid="../etc")


# -- rename ------------------------------------------------------------------------


def test_rename(store):
    registry.create_profile(store, "old", pid="a", ts=1)
    assert registry.rename_profile(store, "a", " new ") == {"id": "a", "name": "new", "created": 1}
    assert registry.get_profile(store, "a")["name"] == "new"


def test_rename_own_case_is_allowed(store):
    registry.create_profile(store, "name", pid="a")
    assert registry.rename_profile(store, "a", "NAME")["name"] == "NAME"


def test_rename_to_taken_name_conflicts(store):
    registry.create_profile(store, "one", pid="a")
    registry.create_profile(store, "two", pid="b")
    with pytest.raises(ConflictError) as err:
        registry.rename_profile(store, "b", "ONE")
    assert err.value.code == "name_taken"
    assert registry.get_profile(store, "b")["name"] == "two"


def test_rename_unknown_and_bad(store):
    with pytest.raises(NotFoundError):
        registry.rename_profile(store, "ghost", "x")
    registry.create_profile(store, "a", pid="a")
    with pytest.raises(ValidationError):
        registry.rename_profile(store, "a", "")
    with pytest.raises(ValidationError):
        registry.rename_profile(store, "../a", "x")


# -- delete ------------------------------------------------------------------------


def test_delete_removes_entry_and_data(store, monkeypatch):
    monkeypatch.setenv("POOL_PROFILES_HISTORY_VERSIONS", "0")  # the no-history behaviour
    registry.create_profile(store, "a", pid="id1")
    registry.create_profile(store, "b", pid="id2")
    pools.add_image(store, "id1", png())
    pools.add_image(store, "id2", png())
    registry.delete_profile(store, "id1")
    assert [p["id"] for p in registry.list_profiles(store)] == ["id2"]
    assert store.walk("id1") == []
    assert pools.pool_view(store, "id2")["count"] == 1  # the other one is untouched


def test_delete_unknown(store):
    with pytest.raises(NotFoundError):
        registry.delete_profile(store, "ghost")
    with pytest.raises(ValidationError):
        registry.delete_profile(store, "..")


def test_delete_frees_the_name(store):
    registry.create_profile(store, "a", pid="id1")
    registry.delete_profile(store, "id1")
    assert registry.create_profile(store, "A", pid="id2")["name"] == "A"


# -- duplicate ---------------------------------------------------------------------


def test_duplicate_copies_images_masks_labels_thumbs(store):
    registry.create_profile(store, "src", pid="id1")
    pools.add_image(store, "id1", png(), label="first")
    pools.add_image(store, "id1", png((0, 255, 0)), label="second")
    mask = io.BytesIO()
    Image.new("L", (8, 6), 255).save(mask, "PNG")
    pools.set_mask(store, "id1", 0, mask.getvalue())
    e = registry.duplicate_profile(store, "id1", "copy", pid="id2", ts=9)
    assert e == {"id": "id2", "name": "copy", "created": 9.0}
    assert pools.read_manifest(store, "id2") == pools.read_manifest(store, "id1")
    src_keys = [k[len("id1/") :] for k in store.walk("id1") if "/history/" not in k]
    assert [k[len("id2/") :] for k in store.walk("id2")] == src_keys
    assert any(k.startswith("thumbs/") for k in src_keys)
    for k in src_keys:
        assert store.read_bytes(f"id2/{k}") == store.read_bytes(f"id1/{k}")
    # the copies are independent
    pools.set_label(store, "id2", 0, "changed")
    assert pools.read_manifest(store, "id1")["slots"][0]["label"] == "first"
    pools.remove_slot(store, "id2", 0)
    assert pools.pool_view(store, "id1")["count"] == 2
    for s in pools.read_manifest(store, "id1")["slots"]:
        assert store.exists(pools.blob_key("id1", s["image"]))


@pytest.mark.parametrize(
    "manifest", [b'{"active": 0, "slots": [{"image": "img_0001.png", "la', b'{"slots": 3}']
)
def test_duplicate_of_a_corrupt_manifest_is_refused_and_copies_nothing(store, manifest):
    registry.create_profile(store, "src", pid="id1")
    pools.add_image(store, "id1", png())
    store.write_bytes("id1/manifest.json", manifest)
    with pytest.raises(CorruptDataError) as info:
        registry.duplicate_profile(store, "id1", "copy", pid="id2")
    assert info.value.status == 503 and "id1/manifest.json" in info.value.message
    assert store.walk("id2") == []
    assert [e["id"] for e in registry.list_profiles(store)] == ["id1"]
    assert store.read_bytes("id1/manifest.json") == manifest  # left as it was


def test_duplicate_leaves_copies_of_damaged_documents_behind(store):
    registry.create_profile(store, "src", pid="id1")
    pools.add_image(store, "id1", png())
    store.write_bytes("id1/manifest.json.corrupt-20260101-000000-0000", b"{")
    registry.duplicate_profile(store, "id1", "copy", pid="id2")
    assert not [k for k in store.walk("id2") if ".corrupt-" in k]
    assert pools.pool_view(store, "id2")["count"] == 1


def test_duplicate_moves_no_blob_bytes_through_host(store, monkeypatch):
    registry.create_profile(store, "src", pid="id1")
    pools.add_image(store, "id1", png())

    def forbidden(*a, **kw):
        raise AssertionError("blob bytes read through this host")

    monkeypatch.setattr(store, "read_bytes", forbidden)
    monkeypatch.setattr(store, "open_read", forbidden)
    registry.duplicate_profile(store, "id1", "copy", pid="id2")
    monkeypatch.undo()
    assert pools.pool_view(store, "id2")["count"] == 1


def test_duplicate_empty_profile(store):
    registry.create_profile(store, "src", pid="id1")
    e = registry.duplicate_profile(store, "id1", "copy")
    assert pools.pool_view(store, e["id"])["count"] == 0


def test_duplicate_name_taken_copies_nothing(store):
    registry.create_profile(store, "src", pid="id1")
    registry.create_profile(store, "other", pid="id2")
    pools.add_image(store, "id1", png())
    with pytest.raises(ConflictError) as err:
        registry.duplicate_profile(store, "id1", "SRC", pid="id3")
    assert err.value.code == "name_taken"
    with pytest.raises(ConflictError):
        registry.duplicate_profile(store, "id1", "Other", pid="id3")
    assert store.walk("id3") == []
    assert len(registry.list_profiles(store)) == 2


def test_duplicate_unknown_source(store):
    with pytest.raises(NotFoundError):
        registry.duplicate_profile(store, "ghost", "copy")
    assert registry.list_profiles(store) == []


def test_duplicate_failure_leaves_nothing(store, monkeypatch):
    registry.create_profile(store, "src", pid="id1")
    pools.add_image(store, "id1", png())
    real = registry._update

    def fail_register(*a, **kw):
        raise ConflictError("someone took it", code="name_taken")

    monkeypatch.setattr(registry, "_update", fail_register)
    with pytest.raises(ConflictError):
        registry.duplicate_profile(store, "id1", "copy", pid="id2")
    monkeypatch.setattr(registry, "_update", real)
    assert store.walk("id2") == []
    assert [p["id"] for p in registry.list_profiles(store)] == ["id1"]


def test_duplicate_racing_a_remove_never_names_a_missing_blob(store, monkeypatch):
    monkeypatch.setenv("POOL_PROFILES_HISTORY_VERSIONS", "0")  # a remove deletes at once
    # The manifest snapshot names a blob that a concurrent remove deletes before the
    # tree is listed: the copy must not end up with a slot whose image is not there.
    registry.create_profile(store, "src", pid="id1")
    pools.add_image(store, "id1", png(), label="a")
    pools.add_image(store, "id1", png((0, 255, 0)), label="b")
    real_walk = store.walk
    raced = []

    def walk(prefix=""):
        if prefix == "id1" and not raced:
            raced.append(pools.remove_slot(store, "id1", 0))
        return real_walk(prefix)

    monkeypatch.setattr(store, "walk", walk)
    try:
        registry.duplicate_profile(store, "id1", "copy", pid="id2")
    except ConflictError:
        assert real_walk("id2") == []  # refused: nothing left behind
        return
    monkeypatch.undo()
    assert raced
    manifest = pools.read_manifest(store, "id2")
    for slot in manifest["slots"]:
        assert store.exists(pools.blob_key("id2", slot["image"])), slot
    assert [s["label"] for s in manifest["slots"]] == ["b"]


# -- register ----------------------------------------------------------------------


def test_register_suffixes_collisions(store):
    registry.create_profile(store, "setA", pid="a")
    assert registry.register_profile(store, "b", "setA", ts=1)["name"] == "setA (2)"
    assert registry.register_profile(store, "c", "SETA")["name"] == "SETA (3)"
    assert registry.register_profile(store, "d", "fresh")["name"] == "fresh"
    with pytest.raises(ConflictError):
        registry.register_profile(store, "a", "again")


def test_register_suffix_respects_name_length(store):
    long = "n" * 100
    registry.create_profile(store, long, pid="a")
    e = registry.register_profile(store, "b", long)
    assert e["name"].endswith(" (2)") and len(e["name"]) <= 100


# -- corrupt registry --------------------------------------------------------------


CORRUPT = {
    "truncated": b'{"profiles": [{"id": "a", "na',
    "binary": b"\xff\xfe garbage",
    "list": b'["not", "a", "registry"]',
    "dict-profiles": b'{"profiles": {"id": "a"}}',
    "str-entry": b'{"profiles": ["just a string"]}',
    "int-id": b'{"profiles": [{"id": 5, "name": "x"}]}',
    "no-key": b"{}",
    "too-deep": b"[" * 100_000 + b"]" * 100_000,  # json.loads: RecursionError
}


def check_corrupt_kept_aside(store, raw: bytes) -> None:
    write_raw(store, raw)
    with pytest.raises(CorruptDataError) as err:
        registry.list_profiles(store)
    copies = aside_copies(store)
    assert len(copies) == 1 and copies[0] in str(err.value)
    assert store.read_bytes(copies[0]) == raw
    # every later call fails too, and nothing overwrites the damaged file
    for op in (
        lambda: registry.create_profile(store, "new"),
        lambda: registry.register_profile(store, "x", "new"),
        lambda: registry.rename_profile(store, "a", "new"),
        lambda: registry.delete_profile(store, "a"),
        lambda: registry.get_profile(store, "a"),
        lambda: registry.find_by_name(store, "a"),
        lambda: registry.list_profiles(store),
    ):
        with pytest.raises(CorruptDataError):
            op()
    assert store.read_bytes(KEY) == raw
    assert aside_copies(store) == copies  # the same damage is kept aside once


@pytest.mark.parametrize("kind", ["truncated", "str-entry"])
def test_corrupt_registry_kept_aside_never_replaced(store, kind):
    check_corrupt_kept_aside(store, CORRUPT[kind])


@pytest.mark.parametrize("kind", sorted(CORRUPT))
def test_corrupt_registry_shapes(mem, kind):
    check_corrupt_kept_aside(mem, CORRUPT[kind])


def test_repaired_registry_works_again(store):
    write_raw(store, b"{oops")
    with pytest.raises(CorruptDataError):
        registry.create_profile(store, "x")
    write_raw(store, {"profiles": []})
    assert registry.create_profile(store, "x", pid="a")["id"] == "a"


# -- data predating the rules ------------------------------------------------------


def test_legacy_entries_load_and_unknown_keys_survive(store):
    long = "L" * 150
    write_raw(
        store,
        {
            "profiles": [
                {"id": "a", "name": "Same", "created": 1, "color": "red"},
                {"id": "b", "name": "same", "created": 2},
                {"id": "c", "name": long, "created": 3},
                {"id": "../../evil", "name": "hidden"},
            ],
            "version": 7,
        },
    )
    listed = registry.list_profiles(store)
    assert [p["id"] for p in listed] == ["a", "b", "c"]  # the unusable id is hidden
    assert registry.find_by_name(store, "same")["id"] == "b"  # exact match wins
    assert registry.find_by_name(store, "Same")["id"] == "a"
    assert registry.get_profile(store, "c")["name"] == long
    registry.rename_profile(store, "a", "Renamed")
    registry.create_profile(store, "new", pid="d")
    doc = json.loads(store.read_bytes(KEY))
    assert doc["version"] == 7
    assert doc["profiles"][0] == {"id": "a", "name": "Renamed", "created": 1, "color": "red"}
    assert doc["profiles"][3]["id"] == "../../evil"  # kept, never used as a path
    assert [p["id"] for p in doc["profiles"]] == ["a", "b", "c", "../../evil", "d"]


def test_earlier_pack_registry_on_disk(tmp_path):
    """A registry written by the earlier local-only pack opens unchanged."""
    from pool_profiles.backends import open_store

    root = tmp_path / "grid_pool"
    (root / "id1").mkdir(parents=True)
    reg = {"profiles": [{"id": "id1", "name": "setA", "created": 1}]}
    (root / "profiles.json").write_text(json.dumps(reg, indent=2))
    store = open_store(str(root))
    assert registry.list_profiles(store) == reg["profiles"]
    registry.rename_profile(store, "id1", "setB")
    assert json.loads((root / "profiles.json").read_text())["profiles"][0]["name"] == "setB"


@pytest.mark.parametrize("bad", ["a\ud800b", "\udcff"])
def test_names_and_labels_that_cannot_be_stored_are_refused(store, bad):
    # A lone surrogate (a mis-decoded command-line byte) cannot be written as UTF-8.
    with pytest.raises(ValidationError):
        registry.create_profile(store, bad)
    with pytest.raises(ValidationError):
        ids.clean_label(bad)
    assert registry.list_profiles(store) == []


def test_hand_edited_created_times_are_handed_out_as_numbers(store):
    raw = {
        "profiles": [{"id": "a", "name": "A", "created": float("nan")}, {"id": "b", "name": "B"}]
    }
    store.write_bytes("profiles.json", json.dumps(raw).encode())
    listed = registry.list_profiles(store)
    assert [p["created"] for p in listed] == [0, 0]
    json.dumps(listed, allow_nan=False)  # valid JSON for browsers
    assert registry.get_profile(store, "a")["created"] == 0
