"""Copies are staged like imports: a pasted pool node's copy (`pool_copy.copy_pool`,
the /grid_pool/copy route) and `transfer.copy_profiles` (CLI `copy`) write a marker
before any object and remove it at commit, so a copy cut short where even the clean-up
fails is reported by `check` (unfinished_copy) and removed by `--repair` after the
grace period, and a finished copy (or a node's own pool) is never removed."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from PIL import Image

from pool_profiles import check, pool_copy, pools, registry, staging, transfer
from pool_profiles.backends import open_store
from pool_profiles.errors import StorageError
from pool_profiles.server.app import make_app

LATER = 3600.0  # "now" this far ahead makes everything older than the grace period
NODE_POOL = "node-pool-1"


def png(color) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 12), color).save(buf, "PNG")
    return buf.getvalue()


def fill(store, pool_id: str, count: int = 3) -> None:
    for i in range(count):
        pools.add_image(store, pool_id, png((i * 60, 10, 10)), label=f"s{i}")


def fail_after(store, monkeypatch, objects: int) -> None:
    """The store copies `objects` objects, then goes away; deleting fails too."""
    real = store.copy_objects
    done = []

    def flaky(pairs, **kw):
        for pair in pairs:
            if len(done) == objects:
                raise StorageError("connection reset")
            real([pair], **kw)
            done.append(pair)
        return len(done)

    def failing_delete(prefix):
        raise StorageError("connection reset")

    monkeypatch.setattr(store, "copy_objects", flaky)
    monkeypatch.setattr(store, "delete_tree", failing_delete)


def kinds(report, pid: str) -> list[str]:
    return [i.kind for i in report.issues if i.id == pid]


def assert_found_then_removed(store, pid: str) -> None:
    report = check.check_store(store)
    assert kinds(report, pid) == ["unfinished_copy"] and not report.ok, report.issues
    assert report.pools == 1  # the node pool only: a stage is not a pool
    # Young: it may be a copy in flight, so repair leaves it.
    check.check_store(store, repair=True)
    assert store.exists(staging.marker_key(pid))
    report = check.check_store(store, repair=True, now=time.time() + LATER)
    assert report.ok, report.issues
    assert store.walk(pid) == []
    assert pools.pool_view(store, NODE_POOL)["count"] == 3  # the source is untouched
    assert check.check_store(store).issues == []


@pytest.fixture
def source(store):
    fill(store, NODE_POOL)
    return store


def test_pool_copy_writes_its_marker_first_and_removes_it(source, monkeypatch):
    store = source
    order: list[str] = []
    real_write, real_copy = store.write_bytes, store.copy_objects

    def write(key, data):
        order.append(key)
        return real_write(key, data)

    def copy(pairs, **kw):
        pairs = list(pairs)
        order.extend(dst for _, dst in pairs)
        return real_copy(pairs, **kw)

    monkeypatch.setattr(store, "write_bytes", write)
    monkeypatch.setattr(store, "copy_objects", copy)
    pool_copy.copy_pool(store, NODE_POOL, "pasted")
    monkeypatch.undo()
    mine = [k for k in order if k.startswith("pasted/")]
    assert mine[0] == staging.marker_key("pasted") and mine[-1] == "pasted/manifest.json"
    assert not store.exists(staging.marker_key("pasted"))
    assert pools.pool_view(store, "pasted")["count"] == 3
    assert check.check_store(store).issues == []


def test_pool_copy_cut_short_is_found_and_removed(source, monkeypatch):
    store = source
    fail_after(store, monkeypatch, 2)
    with pytest.raises(StorageError):
        pool_copy.copy_pool(store, NODE_POOL, "pasted")
    monkeypatch.undo()
    assert len(store.walk("pasted")) == 3  # the marker and two objects
    assert_found_then_removed(store, "pasted")


def test_a_finished_pool_copy_whose_marker_stayed_is_kept(source, monkeypatch):
    store = source
    real_delete = store.delete

    def delete(key):
        if key == staging.marker_key("pasted"):
            raise StorageError("connection reset")
        return real_delete(key)

    monkeypatch.setattr(store, "delete", delete)
    monkeypatch.setattr(
        store, "delete_tree", lambda prefix: (_ for _ in ()).throw(StorageError("x"))
    )
    with pytest.raises(StorageError):  # the commit failed: the caller is told
        pool_copy.copy_pool(store, NODE_POOL, "pasted")
    monkeypatch.undo()
    report = check.check_store(store, repair=True, now=time.time() + LATER)
    assert kinds(report, "pasted") == ["stage_marker"] and report.ok, report.issues
    assert not store.exists(staging.marker_key("pasted"))
    assert pools.pool_view(store, "pasted")["count"] == 3  # complete: never removed


def test_a_cut_copy_the_node_then_used_is_its_pool(source, monkeypatch):
    store = source
    fail_after(store, monkeypatch, 2)
    with pytest.raises(StorageError):
        pool_copy.copy_pool(store, NODE_POOL, "pasted")
    monkeypatch.undo()
    pools.add_image(store, "pasted", png((1, 2, 3)), label="mine")  # writes a manifest
    report = check.check_store(store, repair=True, now=time.time() + LATER)
    assert "unfinished_copy" not in kinds(report, "pasted")
    labels = [s["label"] for s in pools.read_manifest(store, "pasted")["slots"]]
    assert "mine" in labels and not store.exists(staging.marker_key("pasted"))


def test_seeding_an_empty_profile_cut_short_empties_it_again(source, monkeypatch):
    store = source
    entry = registry.create_profile(store, "Seeded")
    fail_after(store, monkeypatch, 2)
    with pytest.raises(StorageError):
        pool_copy.copy_pool(store, NODE_POOL, entry["id"])
    monkeypatch.undo()
    report = check.check_store(store)
    assert kinds(report, entry["id"]) == ["unfinished_copy"]
    report = check.check_store(store, repair=True, now=time.time() + LATER)
    assert report.ok, report.issues
    assert [e["id"] for e in registry.list_profiles(store)] == [entry["id"]]
    assert pools.pool_view(store, entry["id"])["count"] == 0


@pytest.mark.asyncio
async def test_copy_route_cut_short_answers_503_and_check_finds_it(
    aiohttp_client, source, monkeypatch
):
    store = source
    client = await aiohttp_client(make_app(store))
    fail_after(store, monkeypatch, 1)
    resp = await client.post("/grid_pool/copy", json={"source": NODE_POOL, "target": "pasted"})
    body = await resp.json()
    assert resp.status == 503 and body["code"] == "storage" and "reset" in body["error"]
    monkeypatch.undo()
    assert_found_then_removed(store, "pasted")


# -- copy between stores (CLI `copy`) ----------------------------------------------


def test_copy_between_stores_cut_short_is_found_and_removed(store, tmp_path, monkeypatch):
    src = open_store(str(tmp_path / "src"))
    pid = registry.create_profile(src, "Dogs")["id"]
    fill(src, pid, 4)
    dst = store
    fill(dst, NODE_POOL)
    real_write = dst.write_stream
    writes = []

    def flaky(key, chunks):
        writes.append(key)
        if len(writes) == 3:  # two blobs are stored, then the store goes away
            raise StorageError("connection reset")
        return real_write(key, chunks)

    monkeypatch.setattr(dst, "write_stream", flaky)
    monkeypatch.setattr(dst, "delete_tree", lambda prefix: (_ for _ in ()).throw(StorageError("x")))
    with pytest.raises(StorageError):
        transfer.copy_profiles(src, dst)
    monkeypatch.undo()
    assert registry.list_profiles(dst) == []
    assert len([k for k in dst.walk(pid) if k.endswith(".png")]) == 2
    assert_found_then_removed(dst, pid)
    # Copying again now copies the profile whole, under its own id.
    (entry,) = transfer.copy_profiles(src, dst)
    assert entry["id"] == pid and pools.pool_view(dst, pid)["count"] == 4
    assert check.check_store(dst).issues == []


def test_copy_between_stores_leaves_no_marker(tmp_path):
    src = open_store(str(tmp_path / "src"))
    pid = registry.create_profile(src, "Dogs")["id"]
    fill(src, pid, 2)
    dst = open_store(str(tmp_path / "dst"))
    transfer.copy_profiles(src, dst)
    assert not dst.exists(staging.marker_key(pid))
    assert check.check_store(dst).issues == []


KILLER = """
import os, signal, sys
from pool_profiles import transfer
from pool_profiles.backends import open_store

def progress(done, total):
    if done >= 2:  # some blobs are written
        os.kill(os.getpid(), signal.SIGKILL)

transfer.copy_profiles(open_store(sys.argv[1]), open_store(sys.argv[2]), progress=progress)
"""


def test_cli_copy_killed_by_sigkill_is_found_and_removed(tmp_path):
    src = open_store(str(tmp_path / "src"))
    pid = registry.create_profile(src, "Dogs")["id"]
    fill(src, pid, 4)
    dst = open_store(str(tmp_path / "dst"))
    fill(dst, NODE_POOL)
    env = {k: v for k, v in os.environ.items() if not k.startswith("POOL_PROFILES_")}
    proc = subprocess.run(
        [sys.executable, "-c", KILLER, str(tmp_path / "src"), str(tmp_path / "dst")],
        capture_output=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    assert [k for k in dst.walk(pid) if k.endswith(".png")]  # cut mid-copy
    marker = json.loads(dst.read_bytes(staging.marker_key(pid)))
    assert marker["stage"] == staging.COPY
    assert_found_then_removed(dst, pid)
