"""Imports are staged: a marker is written before any blob and removed once the
registry entry exists, so an import cut short (a failing store, kill -9) is
recognisable: `check` reports it, `--repair` removes it after the grace period, and
it is never taken for a node's own pool (nor a node pool for it)."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile

import pytest
from PIL import Image

from pool_profiles import archive, check, pools, registry, staging
from pool_profiles.errors import StorageError
from pool_profiles.staging import MARKER, Stage

LATER = 3600.0  # "now" this far ahead makes everything older than the grace period
NODE_POOL = "node-pool-1"


def png(color) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 12), color).save(buf, "PNG")
    return buf.getvalue()


def profile_zip(count: int = 4) -> bytes:
    buf = io.BytesIO()
    names = [f"img_{i:04d}.png" for i in range(1, count + 1)]
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("profile_meta.json", json.dumps({"name": "Imported"}))
        slots = [{"image": n, "mask": None, "label": n} for n in names]
        z.writestr("pool/manifest.json", json.dumps({"active": 0, "slots": slots}))
        for i, n in enumerate(names):
            z.writestr(f"pool/{n}", png((i * 40, 0, 0)))
    return buf.getvalue()


def unregistered_dirs(store) -> list[str]:
    known = {e["id"] for e in registry.list_profiles(store)}
    known.add("profiles.history")  # the registry's history, not a pool
    return [e.name for e in store.listdir("") if e.is_dir and e.name not in known]


def assert_stage_found_and_removed(store, stage_id: str, kind: str = "unfinished_import") -> None:
    report = check.check_store(store)
    found = [i for i in report.issues if i.kind == kind]
    assert [i.id for i in found] == [stage_id] and not report.ok
    # Not a pool: no thumbnails remade, no orphans, nothing counted.
    assert not [i for i in report.issues if i.id == stage_id and i.kind != kind]
    # Young: it may be an import in flight, so repair leaves it.
    report = check.check_store(store, repair=True)
    assert store.exists(staging.marker_key(stage_id)) and not report.ok
    report = check.check_store(store, repair=True, now=time.time() + LATER)
    assert report.ok, report.issues
    assert store.walk(stage_id) == []
    # The node's own pool (unregistered, no marker) is left as it was.
    assert pools.pool_view(store, NODE_POOL)["count"] == 1
    assert check.check_store(store).issues == []


@pytest.fixture
def with_node_pool(store):
    pools.add_image(store, NODE_POOL, png((0, 0, 255)))
    return store


def test_marker_is_written_first_and_removed_at_commit(store, monkeypatch):
    written: list[str] = []
    for method in ("write_bytes", "write_stream"):
        real = getattr(store, method)

        def spy(key, data, _real=real):
            written.append(key)
            return _real(key, data)

        monkeypatch.setattr(store, method, spy)
    entry = archive.import_zip(store, io.BytesIO(profile_zip()))
    mine = [k for k in written if k.startswith(entry["id"] + "/")]
    assert mine[0] == f"{entry['id']}/{MARKER}"
    assert not store.exists(staging.marker_key(entry["id"]))
    assert pools.pool_view(store, entry["id"])["count"] == 4
    assert check.check_store(store).issues == []


def test_import_failing_midway_with_a_failing_clean_up_is_found(with_node_pool, monkeypatch):
    store = with_node_pool
    real_write = store.write_stream
    calls = []

    def flaky_write(key, chunks):
        calls.append(key)
        if len(calls) == 3:  # two blobs are stored, then the store goes away
            raise StorageError("connection reset")
        return real_write(key, chunks)

    def failing_delete(prefix):
        raise StorageError("connection reset")

    monkeypatch.setattr(store, "write_stream", flaky_write)
    monkeypatch.setattr(store, "delete_tree", failing_delete)
    with pytest.raises(StorageError):
        archive.import_zip(store, io.BytesIO(profile_zip()))
    monkeypatch.undo()
    [stage_id] = [d for d in unregistered_dirs(store) if d != NODE_POOL]
    assert len([k for k in store.walk(stage_id) if k.endswith(".png")]) == 2
    assert_stage_found_and_removed(store, stage_id)


def test_a_duplicate_cut_short_is_found_too(with_node_pool, monkeypatch):
    store = with_node_pool
    src = archive.import_zip(store, io.BytesIO(profile_zip(3)))
    real_copy = store.copy_objects
    calls = []

    def flaky_copy(pairs, **kw):
        for pair in pairs:  # the second object fails, after the first was copied
            calls.append(pair)
            if len(calls) == 2:
                raise StorageError("connection reset")
            real_copy([pair], **kw)
        return len(calls)

    monkeypatch.setattr(store, "copy_objects", flaky_copy)
    monkeypatch.setattr(
        store, "delete_tree", lambda prefix: (_ for _ in ()).throw(StorageError("x"))
    )
    with pytest.raises(StorageError):
        registry.duplicate_profile(store, src["id"], "Copy", pid="dup-1")
    monkeypatch.undo()
    assert store.walk("dup-1")
    assert_stage_found_and_removed(store, "dup-1", "unfinished_copy")
    assert [e["id"] for e in registry.list_profiles(store)] == [src["id"]]


KILLER = """
import io, json, os, signal, sys
from pool_profiles import archive
from pool_profiles.backends import open_store
store = open_store(sys.argv[1], json.loads(sys.argv[2]))
count = int(sys.argv[3])

def progress(done, total):
    if done >= count + 2:  # each blob counts twice (written, checked): some are written
        os.kill(os.getpid(), signal.SIGKILL)

archive.import_zip(store, io.BytesIO(sys.stdin.buffer.read()), progress=progress)
"""


@pytest.mark.parametrize("store_spec", ["local", "s3"], indirect=True)
def test_import_killed_by_sigkill_is_found_and_removed(store_spec):
    spec = store_spec
    store = spec.open()
    pools.add_image(store, NODE_POOL, png((0, 0, 255)))
    registry.create_profile(store, "Kept")
    env = {k: v for k, v in os.environ.items() if not k.startswith("POOL_PROFILES_")}
    proc = subprocess.run(
        [sys.executable, "-c", KILLER, spec.url, json.dumps(spec.options), "4"],
        input=profile_zip(4),
        capture_output=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    [stage_id] = [d for d in unregistered_dirs(store) if d != NODE_POOL]
    assert [k for k in store.walk(stage_id) if k.endswith(".png")]  # cut mid-import
    assert_stage_found_and_removed(store, stage_id)
    assert [e["name"] for e in registry.list_profiles(store)] == ["Kept"]


def test_a_marker_left_on_a_registered_profile_is_removed_not_the_profile(store):
    entry = archive.import_zip(store, io.BytesIO(profile_zip(2)))
    Stage.begin(store, entry["id"], "import")  # as if the commit's delete had failed
    report = check.check_store(store)
    assert [i.kind for i in report.issues] == ["stage_marker"]
    report = check.check_store(store, repair=True)
    assert report.ok and not store.exists(staging.marker_key(entry["id"]))
    assert pools.pool_view(store, entry["id"])["count"] == 2


def test_stages_are_kept_while_the_registry_is_corrupt(mem):
    stage_id = "stage-1"
    Stage.begin(mem, stage_id, "import")
    mem.write_bytes(f"{stage_id}/img_0001.png", png((1, 2, 3)))
    mem.write_bytes(registry.REGISTRY_KEY, b'{"profiles": [')
    check.check_store(mem, repair=True, now=time.time() + LATER)
    assert mem.exists(f"{stage_id}/img_0001.png")  # it may be a registered profile


def test_a_long_stage_keeps_its_marker_fresh(mem):
    clock = [1000.0]
    stage = Stage(mem, "stage-2", "import", clock=lambda: clock[0])
    stage._write()
    first = mem.read_bytes(staging.marker_key("stage-2"))
    clock[0] += staging.HEARTBEAT_SECONDS / 2
    stage.beat()
    assert mem.read_bytes(staging.marker_key("stage-2")) == first
    clock[0] += staging.HEARTBEAT_SECONDS
    stage.beat()
    assert json.loads(mem.read_bytes(staging.marker_key("stage-2")))["started"] == clock[0]
    stage.commit()
    assert not mem.exists(staging.marker_key("stage-2"))


@pytest.fixture
def mem():
    from pool_profiles.testing.spec import StoreSpec

    return StoreSpec(f"memory://stage-{os.getpid()}-{time.time_ns()}").open()
