"""History on a backend: what StoreConformance also checks, so every store (a plugin's
too) is tried with history, undo, restore, deleted profiles, bounds and collection.
Everything goes through the Store contract only (listing, whole writes, compare-and-
swap), so a backend passing the rest of the suite passes these."""

from __future__ import annotations

import io
import json
import threading

import pytest

from .. import check, history, pool_copy, pools, registry
from ..errors import ConflictError, CorruptDataError, NotFoundError, ValidationError
from ..store import Store


def _png(color: tuple[int, int, int]) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 6), color).save(buf, "PNG")
    return buf.getvalue()


def _mask() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (8, 6), 255).save(buf, "PNG")
    return buf.getvalue()


def _slots(store: Store, pid: str) -> list[tuple[str, str | None, str]]:
    m = pools.read_manifest(store, pid)
    return [(s["image"], s.get("mask"), s["label"]) for s in m["slots"]]


def _versions(store: Store, pid: str) -> list[dict]:
    return history.pool_history(store, pid)["versions"]


def _problems(store: Store) -> list[tuple[str, str | None]]:
    report = check.check_store(store, grace_seconds=0)
    return [(i.kind, i.key) for i in report.issues if i.severity != check.INFO]


class HistoryConformance:
    """History cases; needs the `store` fixture of StoreConformance."""

    @pytest.fixture(autouse=True)
    def _history_defaults(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv(history.ENV_VERSIONS, raising=False)
        monkeypatch.delenv(history.ENV_DAYS, raising=False)

    def test_history_keeps_every_change_with_a_description(self, store: Store) -> None:
        pools.add_image(store, "hp", _png((255, 0, 0)), label="red")
        pools.add_image(store, "hp", _png((0, 255, 0)), label="green")
        pools.set_label(store, "hp", 1, "GREEN")
        pools.set_active(store, "hp", 1)
        pools.reorder(store, "hp", [1, 0])
        pools.set_mask(store, "hp", 0, _mask())
        pools.set_mask(store, "hp", 0, None)
        pools.remove_slot(store, "hp", 1)
        pools.set_label(store, "hp", 0, "GREEN")  # no change: no version
        texts = [v["description"] for v in _versions(store, "hp")]
        assert texts == [
            "removed slot 1 (“red”)",
            "cleared the mask of slot 0 (“GREEN”)",
            "set the mask of slot 0 (“GREEN”)",
            "reordered slots",
            "made slot 1 active",
            "labelled slot 1 “GREEN”",
            "added slot 1 (“green”)",
            "added slot 0 (“red”)",
        ]
        newest = _versions(store, "hp")[0]
        assert newest["count"] == 2 and newest["kind"] == "change" and newest["time"] > 0

    def test_undo_brings_a_removed_slot_back_whole(self, store: Store) -> None:
        pools.add_image(store, "hu", _png((255, 0, 0)), label="front")
        pools.add_image(store, "hu", _png((0, 0, 255)), label="back")
        pools.set_mask(store, "hu", 0, _mask())
        before = _slots(store, "hu")
        pools.remove_slot(store, "hu", 0)
        assert _problems(store) == []  # kept blobs are no orphans
        out = history.undo(store, "hu")
        assert _slots(store, "hu") == before
        for image, mask, _label in before:  # image, mask and thumbnail are all there
            assert pools.read_blob(store, "hu", image) and store.exists(
                pools.thumb_key("hu", image)
            )
            if mask:
                assert pools.read_blob(store, "hu", mask)
        assert out["version"] and out["undone"]
        assert _versions(store, "hu")[0]["description"] == "undid: removed slot 0 (“front”)"
        # Again: further back (the mask), then the undos themselves are history.
        history.undo(store, "hu")
        assert _slots(store, "hu")[0][1] is None
        assert [v["kind"] for v in _versions(store, "hu")[:2]] == ["undo", "undo"]
        assert _problems(store) == []

    def test_an_undo_is_itself_a_change_that_can_be_taken_back(self, store: Store) -> None:
        pools.add_image(store, "hr", _png((1, 2, 3)), label="a")
        pools.set_label(store, "hr", 0, "b")
        history.undo(store, "hr")
        assert _slots(store, "hr")[0][2] == "a"
        undo_entry = _versions(store, "hr")[0]
        history.restore(store, "hr", undo_entry["version"])  # the version before the undo
        assert _slots(store, "hr")[0][2] == "b"

    def test_undo_never_takes_back_a_change_it_was_not_shown(self, store: Store) -> None:
        pools.add_image(store, "hc", _png((1, 2, 3)), label="a")
        mine = pools.set_label(store, "hc", 0, "mine")
        assert mine
        seen = _versions(store, "hc")[0]["version"]
        pools.set_label(store, "hc", 0, "theirs")  # another instance, right after
        stored = store.read_bytes("hc/manifest.json")
        with pytest.raises(ConflictError) as err:
            history.undo(store, "hc", expect=seen)
        assert err.value.code == "undo_stale" and "nothing was undone" in err.value.message
        assert store.read_bytes("hc/manifest.json") == stored
        # Shown the newest change, the same undo goes through.
        history.undo(store, "hc", expect=_versions(store, "hc")[0]["version"])
        assert _slots(store, "hc")[0][2] == "mine"

    def test_concurrent_changes_keep_one_version_each(self, store: Store) -> None:
        if store.capabilities.single_writer:
            pytest.skip("single-writer backend")
        pools.add_image(store, "hx", _png((1, 2, 3)))

        def work(tag: str) -> None:
            for i in range(5):
                pools.set_label(store, "hx", 0, f"{tag}{i}")

        threads = [threading.Thread(target=work, args=(t,)) for t in "ab"]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        labels = [v["description"] for v in _versions(store, "hx") if v["kind"] == "change"]
        assert len(labels) == 11  # the add and ten labels: no version lost or shared

    def test_bad_undo_and_restore_say_so_and_change_nothing(self, store: Store) -> None:
        with pytest.raises(ConflictError) as err:
            history.undo(store, "hb")
        assert err.value.code == "nothing_to_undo"
        pools.add_image(store, "hb", _png((1, 2, 3)), label="x")
        stored = store.read_bytes("hb/manifest.json")
        missing = "1700000000000000-c-0123456789abcdef-abcdef"
        with pytest.raises(NotFoundError) as nf:
            history.restore(store, "hb", missing)
        assert nf.value.code == "unknown_version"
        with pytest.raises(ValidationError):
            history.restore(store, "hb", "../../etc")
        with pytest.raises(ValidationError):
            history.undo(store, "hb", expect="x/y")
        assert store.read_bytes("hb/manifest.json") == stored
        # The first change undone: nothing older to take back.
        history.undo(store, "hb")
        with pytest.raises(ConflictError) as again:
            history.undo(store, "hb")
        assert again.value.code == "nothing_to_undo"

    def test_bounds_prune_oldest_first_and_collect_unused_blobs(
        self, store: Store, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv(history.ENV_VERSIONS, "3")
        for i in range(4):
            pools.add_image(store, "hn", _png((i * 50, 0, 0)), label=f"s{i}")
        removed = pools.read_manifest(store, "hn")["slots"][0]["image"]
        pools.remove_slot(store, "hn", 0)
        for i in range(3):
            pools.set_label(store, "hn", 0, f"l{i}")
        assert store.exists(pools.blob_key("hn", removed))  # still kept by a version
        out = history.prune(store, history.pool_doc("hn"))
        assert len(_versions(store, "hn")) == 3
        assert removed in out.collected  # no kept version uses it any more
        assert not store.exists(pools.blob_key("hn", removed))
        assert not store.exists(pools.thumb_key("hn", removed))
        assert len(_slots(store, "hn")) == 3
        assert _problems(store) == []  # check agrees: nothing orphaned, nothing missing
        oldest = _versions(store, "hn")[-1]["version"]
        history.restore(store, "hn", oldest)  # the kept ones restore

    def test_a_pruned_version_cannot_be_restored(
        self, store: Store, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        pools.add_image(store, "hq", _png((9, 9, 9)), label="x")
        pools.set_label(store, "hq", 0, "y")
        first = _versions(store, "hq")[-1]["version"]
        monkeypatch.setenv(history.ENV_DAYS, "0.000001")  # everything is older than that
        history.prune(store, history.pool_doc("hq"), now=9e12)
        assert _versions(store, "hq") == []
        with pytest.raises(NotFoundError):
            history.restore(store, "hq", first)
        assert _slots(store, "hq")[0][2] == "y"

    def test_a_restore_whose_images_were_collected_changes_nothing(self, store: Store) -> None:
        pools.add_image(store, "hg", _png((1, 1, 1)), label="a")
        pools.add_image(store, "hg", _png((2, 2, 2)), label="b")
        gone = pools.read_manifest(store, "hg")["slots"][0]["image"]
        pools.remove_slot(store, "hg", 0)
        store.delete(pools.blob_key("hg", gone))  # collected behind history's back
        stored = store.read_bytes("hg/manifest.json")
        with pytest.raises(ConflictError) as err:
            history.undo(store, "hg")
        assert err.value.code == "images_collected" and gone in err.value.message
        assert store.read_bytes("hg/manifest.json") == stored

    def test_a_damaged_registry_version_is_reported(self, store: Store) -> None:
        registry.create_profile(store, "One")
        registry.create_profile(store, "Two")
        [first, _] = history.list_entries(store, history.registry_doc())
        store.write_bytes(f"profiles.history/{first.name}", b"garbage")
        report = check.check_store(store)
        assert [i.kind for i in report.issues if i.severity == check.ERROR] == ["history_corrupt"]
        assert [p["name"] for p in registry.list_profiles(store)] == ["One", "Two"]
        registry.create_profile(store, "Three")  # the registry keeps working

    def test_a_damaged_version_is_moved_aside_and_the_pool_keeps_working(
        self, store: Store
    ) -> None:
        pools.add_image(store, "hd", _png((1, 1, 1)), label="a")
        pools.set_label(store, "hd", 0, "b")
        newest = history.list_entries(store, history.pool_doc("hd"))[-1]
        key = f"hd/history/{newest.name}"
        store.write_bytes(key, b'{"history": 1, "descr')
        report = check.check_store(store)
        assert any(i.kind == "history_corrupt" for i in report.issues)
        assert not store.exists(key)  # moved aside, kept for inspection
        assert any(".corrupt-" in k for k in store.walk("hd/history"))
        pools.set_label(store, "hd", 0, "c")
        assert _slots(store, "hd")[0][2] == "c"
        assert [v["description"] for v in _versions(store, "hd")][0] == "labelled slot 0 “c”"
        # Undo of a damaged version: one sentence, nothing changes.
        entry = history.list_entries(store, history.pool_doc("hd"))[-1]
        store.write_bytes(f"hd/history/{entry.name}", b"\x00not json")
        with pytest.raises(CorruptDataError):
            history.undo(store, "hd")
        assert _slots(store, "hd")[0][2] == "c"

    def test_deleted_profiles_are_kept_and_restored(self, store: Store) -> None:
        prof = registry.create_profile(store, "Faces")
        pools.add_image(store, prof["id"], _png((5, 5, 5)), label="face")
        registry.delete_profile(store, prof["id"])
        assert registry.list_profiles(store) == []
        [gone] = history.deleted_profiles(store)
        assert gone["id"] == prof["id"] and gone["name"] == "Faces" and gone["deleted"] > 0
        assert _problems(store) == []
        report = check.check_store(store)  # check knows it: kept for restore, not an orphan
        assert [i.id for i in report.issues if i.kind == "deleted_profile"] == [prof["id"]]
        registry.create_profile(store, "Faces")  # the name is taken meanwhile
        back = history.restore_profile(store, prof["id"])
        assert back["id"] == prof["id"] and back["name"] == "Faces (2)"
        assert _slots(store, prof["id"])[0][2] == "face"
        assert history.deleted_profiles(store) == []
        with pytest.raises(ConflictError):
            history.restore_profile(store, prof["id"])
        with pytest.raises(NotFoundError):
            history.restore_profile(store, "never-was")
        texts = [e.description for e in history.history_of(store, history.registry_doc())]
        assert texts[:3] == [
            "restored profile “Faces”",
            "created profile “Faces”",
            "deleted profile “Faces”",
        ]

    def test_a_deleted_profile_goes_when_its_version_is_pruned(
        self, store: Store, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        prof = registry.create_profile(store, "Old")
        pools.add_image(store, prof["id"], _png((5, 5, 5)))
        registry.delete_profile(store, prof["id"])
        monkeypatch.setenv(history.ENV_VERSIONS, "1")
        registry.create_profile(store, "Newer")
        out = history.prune(store, history.registry_doc())
        assert prof["id"] in out.collected and store.walk(prof["id"]) == []
        assert history.deleted_profiles(store) == []

    def test_copies_and_exports_carry_the_current_state_only(self, store: Store) -> None:
        from ..archive import iter_export

        prof = registry.create_profile(store, "Src")
        pid = prof["id"]
        pools.add_image(store, pid, _png((1, 1, 1)), label="a")
        pools.add_image(store, pid, _png((2, 2, 2)), label="b")
        pools.remove_slot(store, pid, 0)  # its blob stays for history
        dup = registry.duplicate_profile(store, pid, "Dup")["id"]
        pool_copy.copy_pool(store, pid, "hcopy")
        for target in (dup, "hcopy"):
            assert [k for k in store.walk(target) if "/history/" in k] == []
            assert _slots(store, target) == _slots(store, pid)
        assert _problems(store) == []  # no false orphans in the copies
        import zipfile

        data = b"".join(iter_export(store, pid))
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        assert not [n for n in names if "history" in n]
        assert len([n for n in names if n.endswith(".png")]) == 1

    def test_an_earlier_format_pool_gains_history_from_its_first_change(self, store: Store) -> None:
        doc = {"active": 0, "slots": [{"image": "img_0001.png", "mask": None, "label": "old"}]}
        store.write_bytes("he/img_0001.png", _png((3, 3, 3)))
        store.write_bytes("he/manifest.json", json.dumps(doc, indent=2).encode())
        assert _versions(store, "he") == []
        pools.set_label(store, "he", 0, "new")
        assert len(_versions(store, "he")) == 1
        history.undo(store, "he")
        assert _slots(store, "he") == [("img_0001.png", None, "old")]

    def test_history_off_keeps_nothing(self, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(history.ENV_VERSIONS, "0")
        pools.add_image(store, "ho", _png((1, 1, 1)))
        image = pools.read_manifest(store, "ho")["slots"][0]["image"]
        pools.remove_slot(store, "ho", 0)
        assert store.walk("ho/history") == []
        assert not store.exists(pools.blob_key("ho", image))
        with pytest.raises(ConflictError):
            history.undo(store, "ho")
