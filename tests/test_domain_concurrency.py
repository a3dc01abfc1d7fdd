"""Concurrent writers lose nothing (threads; processes on shared backends), and a
writer killed at random points never leaves an unparsable registry or manifest.

Worker processes use the spawn context (as separate ComfyUI instances would: nothing
inherited) and run this very file through runpy, so no test module has to be
importable by name."""

from __future__ import annotations

import io
import multiprocessing
import random
import runpy
import threading
import time
from typing import Any

import pytest
from PIL import Image

from pool_profiles import pools, registry
from pool_profiles.testing.spec import StoreSpec

SHARED_POOL = "shared_pool"
WORKER_NAME = "__pool_profiles_worker__"


def png(seed: int = 0) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 6), (seed % 256, (seed * 7) % 256, 99)).save(buf, "PNG")
    return buf.getvalue()


def mask_png() -> bytes:
    buf = io.BytesIO()
    Image.new("L", (8, 6), 255).save(buf, "PNG")
    return buf.getvalue()


# -- work done by threads and processes --------------------------------------------


def do_profiles(spec: StoreSpec, tag: str, n: int) -> None:
    store = spec.open()
    for i in range(n):
        registry.create_profile(store, f"{tag}-{i}")


def do_images(spec: StoreSpec, tag: str, n: int) -> None:
    store = spec.open()
    for i in range(n):
        pools.add_image(store, SHARED_POOL, png(i), label=f"{tag}-{i}")


def do_churn(spec: StoreSpec, tag: str, ready: Any = None) -> None:
    """Every kind of write, forever (until killed)."""
    store = spec.open()
    mask = mask_png()
    i = 0
    while True:
        p = registry.create_profile(store, f"{tag}-{i}")
        pools.add_image(store, p["id"], png(i), label="x")
        pools.add_image(store, SHARED_POOL, png(i), label=f"{tag}-{i}")
        pools.set_label(store, SHARED_POOL, 0, f"{tag}-{i}")
        pools.set_mask(store, SHARED_POOL, 0, mask)
        if i % 2:
            registry.rename_profile(store, p["id"], f"{tag}-{i}-renamed")
            pools.remove_slot(store, SHARED_POOL, 0)
        if i % 3 == 2:
            registry.delete_profile(store, p["id"])
        if i % 4 == 3:
            registry.duplicate_profile(store, p["id"], f"{tag}-{i}-copy")
        if ready is not None:
            ready.set()
        i += 1


def _worker_main(job: str, args: tuple) -> None:
    {"profiles": do_profiles, "images": do_images, "churn": do_churn}[job](*args)


def spawn(job: str, *args: Any) -> multiprocessing.process.BaseProcess:
    ctx = multiprocessing.get_context("spawn")
    proc = ctx.Process(
        target=runpy.run_path,
        args=(__file__,),
        kwargs={"init_globals": {"JOB": job, "ARGS": args}, "run_name": WORKER_NAME},
        daemon=True,
    )
    proc.start()
    return proc


def run_threads(target, jobs: list[tuple]) -> None:
    errors: list[BaseException] = []

    def wrap(*a):
        try:
            target(*a)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=wrap, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors


# -- consistency checks ------------------------------------------------------------


def check_pool(store, pool_id: str) -> dict:
    """The manifest parses and every blob it names exists."""
    m = pools.read_manifest(store, pool_id)
    present = set(k.split("/", 1)[1] for k in store.walk(pool_id))
    for slot in m["slots"]:
        assert slot["image"] in present, (pool_id, slot)
        if slot["mask"]:
            assert slot["mask"] in present, (pool_id, slot)
    return m


def check_all(store) -> None:
    for p in registry.list_profiles(store):
        check_pool(store, p["id"])
    check_pool(store, SHARED_POOL)


def check_no_loss(store, tags: list[str], n: int) -> None:
    expected = sorted(f"{t}-{i}" for t in tags for i in range(n))
    assert sorted(p["name"] for p in registry.list_profiles(store)) == expected
    m = check_pool(store, SHARED_POOL)
    assert sorted(s["label"] for s in m["slots"]) == expected
    images = [s["image"] for s in m["slots"]]
    assert len(set(images)) == len(images)  # no two adds wrote the same blob name
    stored = [k for k in store.walk(SHARED_POOL) if k.endswith(".png") and "/thumbs/" not in k]
    assert len(stored) == len(images)  # and no orphan was left either


# -- tests -------------------------------------------------------------------------


def test_threads_lose_nothing(store_spec):
    n = 5
    tags = ["t0", "t1", "t2", "t3"]
    run_threads(do_profiles, [(store_spec, t, n) for t in tags])
    run_threads(do_images, [(store_spec, t, n) for t in tags])
    check_no_loss(store_spec.open(), tags, n)


def test_threads_edit_different_slots(store_spec):
    store = store_spec.open()
    for i in range(4):
        pools.add_image(store, SHARED_POOL, png(i))

    def edit(i: int) -> None:
        s = store_spec.open()
        pools.set_label(s, SHARED_POOL, i, f"label-{i}")
        pools.set_mask(s, SHARED_POOL, i, mask_png())

    run_threads(edit, [(i,) for i in range(4)])
    m = check_pool(store, SHARED_POOL)
    assert [s["label"] for s in m["slots"]] == [f"label-{i}" for i in range(4)]
    assert all(s["mask"] for s in m["slots"])


def test_threads_same_name_only_one_wins(store_spec):
    results: list[str] = []

    def create(_: int) -> None:
        try:
            registry.create_profile(store_spec.open(), "Contested")
            results.append("ok")
        except Exception as exc:
            results.append(getattr(exc, "code", repr(exc)))

    run_threads(create, [(i,) for i in range(4)])
    assert sorted(results) == ["name_taken"] * 3 + ["ok"]
    assert [p["name"] for p in registry.list_profiles(store_spec.open())] == ["Contested"]


def test_processes_lose_nothing(store_spec):
    if not store_spec.open().capabilities.shared:
        pytest.skip("process memory is not shared between processes")
    n = 6
    tags = ["p0", "p1"]
    procs = [spawn("profiles", store_spec, t, n) for t in tags]
    procs += [spawn("images", store_spec, t, n) for t in tags]
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0
    check_no_loss(store_spec.open(), tags, n)


def test_processes_lose_nothing_on_seaweedfs(seaweed_spec):
    """The same on a real S3 server (SeaweedFS), not a mock."""
    test_processes_lose_nothing(seaweed_spec)


@pytest.fixture(params=["local", "s3"])
def kill_spec(request, tmp_path) -> StoreSpec:
    if request.param == "local":
        return StoreSpec(str(tmp_path / "store"))
    return request.getfixturevalue("s3_spec")


def test_killed_writer_leaves_parsable_data(kill_spec):
    rng = random.Random()
    ctx = multiprocessing.get_context("spawn")
    store = kill_spec.open()
    rounds = 3
    for r in range(rounds):
        ready = ctx.Event()
        proc = spawn("churn", kill_spec, f"r{r}", ready)
        try:
            assert ready.wait(60), "the writer never got going"
            time.sleep(rng.uniform(0.0, 0.6))
        finally:
            proc.kill()  # SIGKILL: no cleanup, no finally blocks in the writer
            proc.join(30)
        check_all(store)  # raises CorruptDataError on a torn document
    assert registry.list_profiles(store)
    assert pools.pool_view(store, SHARED_POOL)["count"] >= 0
    # and the data is still writable afterwards
    registry.create_profile(store, "after the crashes")
    pools.add_image(store, SHARED_POOL, png(), label="after")
    check_all(store)


if __name__ == WORKER_NAME:  # a spawned worker (see spawn())
    _worker_main(JOB, ARGS)  # noqa: F821 - injected by runpy.run_path(init_globals=...)
