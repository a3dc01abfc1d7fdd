"""The Store conformance suite. Every backend must pass it; a plugin package runs it
against its own backend by subclassing and providing a `store_spec` fixture:

    import pytest
    from pool_profiles.testing.conformance import StoreConformance
    from pool_profiles.testing.spec import StoreSpec

    class TestMyBackend(StoreConformance):
        @pytest.fixture
        def store_spec(self, tmp_path):
            return StoreSpec("myfs://" + str(tmp_path))

Multi-process cases open the store again in child processes from the spec, so the
spec's URL and options must be picklable and reach the same data."""

from __future__ import annotations

import json
import multiprocessing
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from ..errors import CorruptDataError, ValidationError, VersionConflict
from ..store import Store, Support, Versioned
from .history_conformance import HistoryConformance
from .spec import StoreSpec


def _counter_worker(spec: StoreSpec, key: str, n: int, tag: str) -> None:
    store = spec.open()
    for _ in range(n):

        def bump(doc: dict) -> None:
            doc["count"] = doc.get("count", 0) + 1
            doc.setdefault("by", []).append(tag)

        store.update_json(key, bump)


def _writer_worker(spec: StoreSpec, key: str, data: bytes) -> None:
    spec.open().write_bytes(key, data)


def _run_processes(targets: list[tuple]) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=fn, args=args) for fn, *args in targets]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=180)
        assert p.exitcode == 0, f"worker process failed with exit code {p.exitcode}"


def _needs_atomic(store: Store) -> None:
    if store.capabilities.atomic_replace is Support.NONE:
        pytest.skip("backend declares no atomic replace")


def _chunks(data: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


class StoreConformance(HistoryConformance):
    """Tests every Store must pass (history's too). Needs a `store_spec` fixture (a
    StoreSpec)."""

    @pytest.fixture
    def store(self, store_spec: StoreSpec) -> Store:
        return store_spec.open()

    # -- whole objects ---------------------------------------------------------

    def test_write_read_roundtrip(self, store: Store) -> None:
        store.write_bytes("a/b/c.bin", b"hello")
        assert store.read_bytes("a/b/c.bin") == b"hello"
        store.write_bytes("a/b/c.bin", b"again")
        assert store.read_bytes("a/b/c.bin") == b"again"
        assert store.exists("a/b/c.bin")
        assert store.size("a/b/c.bin") == 5

    def test_missing_object(self, store: Store) -> None:
        assert not store.exists("nope.bin")
        with pytest.raises(FileNotFoundError):
            store.read_bytes("nope.bin")
        assert store.read_versioned("nope.json").version is None

    def test_keys_cannot_escape_root(self, store: Store) -> None:
        for bad in [
            "../x",
            "a/../../x",
            "a/./b",
            "/",
            "",
            ".hidden",
            "a//b/..",
            "a\\b",
            "a/\x00",
            "a\n",
            "a\n/b",
        ]:
            with pytest.raises(ValidationError):
                store.write_bytes(bad, b"x")

    # -- streams ----------------------------------------------------------------

    def test_stream_roundtrip(self, store: Store) -> None:
        data = bytes(range(256)) * 40_000  # ~10 MB: more than one S3 multipart part
        assert store.write_stream("big/blob.bin", _chunks(data, 1 << 20)) == len(data)
        with store.open_read("big/blob.bin") as f:
            got = b"".join(iter(lambda: f.read(1 << 20), b""))
        assert got == data

    def test_failed_stream_writes_nothing(self, store: Store) -> None:
        _needs_atomic(store)
        store.write_bytes("s/obj.bin", b"old")

        def broken() -> Iterator[bytes]:
            yield b"partial"
            raise RuntimeError("client went away")

        with pytest.raises(RuntimeError):
            store.write_stream("s/obj.bin", broken())
        with pytest.raises(RuntimeError):
            store.write_stream("s/new.bin", broken())
        assert store.read_bytes("s/obj.bin") == b"old"
        assert not store.exists("s/new.bin")
        assert store.walk("s") == ["s/obj.bin"]

    def test_readers_never_see_partial_writes(self, store: Store) -> None:
        _needs_atomic(store)
        a, b = b"A" * 300_000, b"B" * 300_000
        store.write_bytes("doc.bin", a)
        seen: set[tuple[bytes, int, int]] = set()
        stop = threading.Event()

        def reader() -> None:
            while not stop.is_set():
                got = store.read_bytes("doc.bin")
                seen.add((got[:1], len(set(got)), len(got)))

        t = threading.Thread(target=reader)
        t.start()
        try:
            for i in range(30):
                store.write_bytes("doc.bin", a if i % 2 else b)
        finally:
            stop.set()
            t.join()
        # every read was all-A or all-B (one distinct byte value), never a mix or short
        assert seen and seen <= {(b"A", 1, len(a)), (b"B", 1, len(b))}

    # -- listing / delete / copy --------------------------------------------------

    def test_listing(self, store: Store) -> None:
        for key in ["p/one.png", "p/two.png", "p/thumbs/one.webp", "q/manifest.json"]:
            store.write_bytes(key, b"x")
        names = {e.name: e.is_dir for e in store.listdir("")}
        assert names == {"p": True, "q": True}
        assert {e.name for e in store.listdir("p")} == {"one.png", "two.png", "thumbs"}
        assert store.walk("p") == ["p/one.png", "p/thumbs/one.webp", "p/two.png"]
        assert store.listdir("missing") == [] and store.walk("missing") == []

    def test_delete(self, store: Store) -> None:
        for key in ["d/a.bin", "d/sub/b.bin", "keep/c.bin"]:
            store.write_bytes(key, b"x")
        store.delete("d/a.bin")
        store.delete("d/a.bin")  # missing is fine
        assert not store.exists("d/a.bin")
        store.delete_tree("d")
        assert store.walk("d") == []
        # nothing a listing returns stays (services that keep folders must drop them)
        assert "d" not in {e.name for e in store.listdir("")}
        assert store.listdir("d") == []
        assert store.walk("") == ["keep/c.bin"]
        store.delete_tree("never-existed")

    def test_copy(self, store: Store) -> None:
        store.write_bytes("src/a.png", b"aaa")
        store.write_bytes("src/thumbs/a.webp", b"ttt")
        store.copy("src/a.png", "other/a.png")
        assert store.read_bytes("other/a.png") == b"aaa"
        assert store.copy_tree("src", "dst") == 2
        assert store.walk("dst") == ["dst/a.png", "dst/thumbs/a.webp"]
        assert store.read_bytes("dst/thumbs/a.webp") == b"ttt"
        assert store.read_bytes("src/a.png") == b"aaa"

    @pytest.mark.parametrize("immutable", [False, True])
    def test_copy_objects(self, store: Store, immutable: bool) -> None:
        store.write_bytes("co/a.png", b"aaa")
        store.write_bytes("co/thumbs/a.png.webp", b"ttt")
        store.write_bytes("co-dst/b.png", b"old")  # an existing target is replaced
        pairs = [("co/a.png", "co-dst/a.png"), ("co/thumbs/a.png.webp", "co-dst/thumbs/a.png.webp")]
        pairs.append(("co/a.png", "co-dst/b.png"))
        assert store.copy_objects(pairs, immutable=immutable) == 3
        assert store.read_bytes("co-dst/a.png") == b"aaa"
        assert store.read_bytes("co-dst/b.png") == b"aaa"
        assert store.read_bytes("co-dst/thumbs/a.png.webp") == b"ttt"
        assert store.copy_objects([], immutable=immutable) == 0

    @pytest.mark.parametrize("immutable", [False, True])
    def test_copied_objects_stay_independent(self, store: Store, immutable: bool) -> None:
        # However a backend shares storage between copies (hard links), a write to
        # either key replaces that object only.
        store.write_bytes("ind/a.png", b"one")
        store.copy_objects([("ind/a.png", "ind2/a.png")], immutable=immutable)
        store.write_bytes("ind2/a.png", b"changed copy")
        assert store.read_bytes("ind/a.png") == b"one"
        store.write_stream("ind/a.png", iter([b"changed ", b"source"]))
        assert store.read_bytes("ind2/a.png") == b"changed copy"
        store.copy_objects([("ind/a.png", "ind3/a.png")], immutable=immutable)
        store.delete("ind/a.png")
        assert store.read_bytes("ind3/a.png") == b"changed source"
        v = store.write_if("ind3/a.png", b"cas", store.read_versioned("ind3/a.png").version)
        assert v and store.read_bytes("ind3/a.png") == b"cas"
        assert store.read_bytes("ind2/a.png") == b"changed copy"

    def test_copy_objects_of_a_missing_source(self, store: Store) -> None:
        store.write_bytes("miss/a.png", b"a")
        for immutable in (False, True):
            with pytest.raises(FileNotFoundError):
                store.copy_objects(
                    [("miss/a.png", "miss2/a.png"), ("miss/gone.png", "miss2/gone.png")],
                    immutable=immutable,
                )
            assert not store.exists("miss2/gone.png")

    # -- versioned documents --------------------------------------------------------

    def test_conditional_create_and_update(self, store: Store) -> None:
        v1 = store.write_if("doc.json", b'{"n": 1}', None)
        with pytest.raises(VersionConflict):
            store.write_if("doc.json", b'{"n": 9}', None)  # must not exist any more
        cur = store.read_versioned("doc.json")
        assert cur.data == b'{"n": 1}' and cur.version == v1
        v2 = store.write_if("doc.json", b'{"n": 2}', v1)
        assert v2 != v1
        with pytest.raises(VersionConflict):
            store.write_if("doc.json", b'{"n": 3}', v1)  # stale version refused
        assert store.read_bytes("doc.json") == b'{"n": 2}'

    def test_read_if_changed(self, store: Store) -> None:
        assert store.read_if_changed("rc.json", None) == Versioned(None, None)
        store.write_bytes("rc.json", b'{"n": 1}')
        first = store.read_if_changed("rc.json", None)
        assert first is not None and first.data == b'{"n": 1}' and first.version
        assert store.read_if_changed("rc.json", first.version) is None  # unchanged
        store.write_bytes("rc.json", b'{"n": 2}')
        second = store.read_if_changed("rc.json", first.version)
        assert second is not None and second.data == b'{"n": 2}'
        assert second.version != first.version
        store.delete("rc.json")
        assert store.read_if_changed("rc.json", second.version) == Versioned(None, None)

    def test_update_json_that_changes_nothing_writes_nothing(self, store: Store) -> None:
        store.update_json("same.json", lambda d: d.update(n=1))
        before = store.read_versioned("same.json")
        store.update_json("same.json", lambda d: d.update(n=1))
        assert store.read_versioned("same.json") == before

    def test_update_json(self, store: Store) -> None:
        assert store.update_json("d.json", lambda d: d.setdefault("items", []).append(1)) is None
        store.update_json("d.json", lambda d: d["items"].append(2))
        assert store.read_json("d.json") == {"items": [1, 2]}

    def test_update_json_that_raises_writes_nothing(self, store: Store) -> None:
        store.write_bytes("d.json", b'{"keep": true}')

        def fail(doc: dict) -> None:
            doc["keep"] = False
            raise ValueError("rejected")

        with pytest.raises(ValueError):
            store.update_json("d.json", fail)
        assert store.read_json("d.json") == {"keep": True}

    def test_update_json_reuses_only_what_it_wrote(
        self, store: Store, store_spec: StoreSpec, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The next change of a document this Store wrote starts from the document it
        kept (no parse: the version write_if answered is the one the read finds), and
        never from a stale one: another instance's write, a change that raised, a
        write that lost a race."""
        parsed: list[str] = []
        real_parse = store.parse_json

        def counting(key: str, data: bytes) -> Any:
            parsed.append(key)
            return real_parse(key, data)

        monkeypatch.setattr(store, "parse_json", counting)
        store.update_json("m.json", lambda d: d.setdefault("items", []).append(1))
        store.update_json("m.json", lambda d: d["items"].append(2))
        store.update_json("m.json", lambda d: d["items"].append(3))
        assert parsed == [], "the document it wrote was parsed again"
        assert store.read_json("m.json") == {"items": [1, 2, 3]}
        parsed.clear()

        # Another instance (a fresh Store: another ComfyUI) changes it: its bytes count.
        store_spec.open().update_json("m.json", lambda d: d["items"].append(4))
        store.update_json("m.json", lambda d: d["items"].append(5))
        assert parsed == ["m.json"]
        assert store.read_json("m.json")["items"] == [1, 2, 3, 4, 5]

        # A change that mutates the document and then raises leaves nothing half-done.
        def fail(doc: dict) -> None:
            doc["items"].clear()
            raise ValueError("rejected")

        with pytest.raises(ValueError):
            store.update_json("m.json", fail)
        store.update_json("m.json", lambda d: d["items"].append(6))
        assert store.read_json("m.json")["items"] == [1, 2, 3, 4, 5, 6]

        # A write that loses a race keeps nothing of the losing document.
        other = store_spec.open()
        real_write_if = store.write_if
        raced = []

        def write_after_a_rival(key: str, data: bytes, version: str | None) -> str:
            if not raced:
                raced.append(key)
                other.update_json(key, lambda d: d.update(rival=True))
            return real_write_if(key, data, version)

        if not store.capabilities.single_writer and store.capabilities.shared:
            monkeypatch.setattr(store, "write_if", write_after_a_rival)
            store.update_json("m.json", lambda d: d["items"].append(7))
            monkeypatch.setattr(store, "write_if", real_write_if)
            store.update_json("m.json", lambda d: d["items"].append(8))
            doc = store.read_json("m.json")
            assert doc == {"items": [1, 2, 3, 4, 5, 6, 7, 8], "rival": True}

    def test_corrupt_document_is_kept(self, store: Store) -> None:
        store.write_bytes("c.json", b'{"profiles": [')
        with pytest.raises(CorruptDataError):
            store.update_json("c.json", lambda d: d.update(x=1))
        assert store.read_bytes("c.json") == b'{"profiles": ['
        aside = store.quarantine("c.json")
        assert store.read_bytes(aside) == b'{"profiles": ['

    def test_threads_lose_no_update(self, store: Store) -> None:
        if store.capabilities.single_writer:
            pytest.skip("single-writer backend: no conditional writes")
        threads = [
            threading.Thread(target=_counter_body, args=(store, "count.json", 15, f"t{i}"))
            for i in range(6)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        doc = store.read_json("count.json")
        assert doc["count"] == 90 and len(doc["by"]) == 90

    def test_processes_lose_no_update(self, store: Store, store_spec: StoreSpec) -> None:
        if store.capabilities.single_writer or not store.capabilities.shared:
            pytest.skip("backend is single-writer or not shared between processes")
        _run_processes([(_counter_worker, store_spec, "count.json", 20, f"p{i}") for i in range(2)])
        doc = store.read_json("count.json")
        assert doc["count"] == 40
        assert sorted(doc["by"]) == sorted(["p0"] * 20 + ["p1"] * 20)

    def test_service_honours_compare_and_swap(self, store: Store) -> None:
        """Verify, don't trust: the start-up probe (cas_probe.py) passes on this service,
        fresh and with its probe object already there, and the object stays hidden."""
        from ..store import cas_probe

        if store.capabilities.conditional_write is not Support.NATIVE:
            pytest.skip("no native compare-and-swap: nothing to probe")
        store.write_bytes("pool/a.png", b"a")
        assert cas_probe.probe(store) is None
        assert cas_probe.probe(store) is None
        assert store.walk("") == ["pool/a.png"]
        assert [e.name for e in store.listdir("")] == ["pool"]

    def test_listing_sees_other_process_writes(self, store: Store, store_spec: StoreSpec) -> None:
        if not store.capabilities.shared:
            pytest.skip("backend is not shared between processes")
        store.write_bytes("pool/a.png", b"a")
        assert store.walk("pool") == ["pool/a.png"]
        assert [e.name for e in store.listdir("pool")] == ["a.png"]
        _run_processes([(_writer_worker, store_spec, "pool/b.png", b"b")])
        # the same Store instance, no reopen: a cached listing would miss b.png
        assert store.walk("pool") == ["pool/a.png", "pool/b.png"]
        assert [e.name for e in store.listdir("pool")] == ["a.png", "b.png"]
        assert store.exists("pool/b.png")
        _run_processes([(_writer_worker, store_spec, "doc.json", json.dumps({"v": 2}).encode())])
        assert store.read_json("doc.json") == {"v": 2}


def _counter_body(store: Store, key: str, n: int, tag: str) -> None:
    for _ in range(n):

        def bump(doc: dict) -> None:
            doc["count"] = doc.get("count", 0) + 1
            doc.setdefault("by", []).append(tag)

        store.update_json(key, bump)
