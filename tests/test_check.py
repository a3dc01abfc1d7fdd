"""check: finding and conservatively repairing damage on every backend."""

from __future__ import annotations

import io
import json
import os
import time
import uuid

import pytest
from PIL import Image

from pool_profiles import check, pools, registry
from pool_profiles.testing.spec import StoreSpec


def png(color=(255, 0, 0), size=(8, 6), mode="RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, color).save(buf, "PNG")
    return buf.getvalue()


LATER = 3600.0  # "now" this far ahead makes everything older than the grace period


@pytest.fixture
def pool(store):
    pid = registry.create_profile(store, "Checked")["id"]
    a = pools.add_image(store, pid, png((255, 0, 0)), label="red")
    b = pools.add_image(store, pid, png((0, 255, 0)), label="green")
    c = pools.add_image(store, pid, png((0, 0, 255)), label="blue")
    pools.set_mask(store, pid, 2, png(255, mode="L"))
    pools.set_active(store, pid, 2)
    return pid, [a["image"], b["image"], c["image"]]


@pytest.fixture
def mem_pool():
    store = StoreSpec(f"memory://check-{uuid.uuid4().hex[:12]}").open()
    pid = registry.create_profile(store, "Checked")["id"]
    pools.add_image(store, pid, png())
    return store, pid


def kinds(report) -> list[str]:
    return sorted(i.kind for i in report.issues)


def test_healthy_store_is_ok(store, pool):
    report = check.check_store(store)
    assert report.ok and report.issues == []
    assert report.profiles == 1 and report.pools == 1
    assert json.loads(json.dumps(report.as_dict()))["ok"] is True


def next_second() -> None:
    """Sleep into the next whole second: S3 times are whole seconds."""
    time.sleep(1.05 - time.time() % 1)


def test_orphan_blob_is_deleted_only_with_the_flag_after_the_grace_period(store, pool):
    pid, _ = pool
    key = f"{pid}/img_0099_deadbeef.png"
    store.write_bytes(key, png((1, 2, 3)))
    next_second()
    pools.set_label(store, pid, 0, "changed after")  # the manifest is newer: an orphan
    report = check.check_store(store)
    assert kinds(report) == ["orphan_blob"] and not report.ok
    # --repair alone deletes no image, however old.
    report = check.check_store(store, repair=True, now=time.time() + LATER)
    assert store.exists(key) and not report.issues[0].repaired
    assert "--delete-orphans" in report.issues[0].message
    # An orphan this young may be an add in flight: even the flag leaves it.
    report = check.check_store(store, repair=True, delete_orphans=True)
    assert store.exists(key) and not report.issues[0].repaired
    report = check.check_store(store, repair=True, delete_orphans=True, now=time.time() + LATER)
    assert report.issues[0].repaired and report.ok
    assert not store.exists(key)
    assert check.check_store(store).issues == []


def test_image_newer_than_the_manifest_is_a_possibly_lost_slot(store, pool):
    pid, names = pool
    before = pools.read_manifest(store, pid)
    next_second()
    lost = "img_0099_0badc0de.png"
    store.write_bytes(pools.blob_key(pid, lost), png((7, 7, 7)))
    report = check.check_store(store)
    assert kinds(report) == ["possibly_lost_slot"] and not report.ok
    assert report.issues[0].key == f"{pid}/{lost}"
    # Young (maybe an add in flight): repair waits for the grace period.
    report = check.check_store(store, repair=True)
    assert not report.issues[0].repaired and pools.read_manifest(store, pid) == before
    report = check.check_store(store, repair=True, now=time.time() + LATER)
    assert report.issues[0].repaired and "put back" in report.issues[0].message
    slots = pools.read_manifest(store, pid)["slots"]
    assert [s["image"] for s in slots] == [*names, lost]  # at the end, unlabeled
    assert slots[-1]["label"] == "" and slots[-1]["mask"] is None
    assert [s["label"] for s in slots[:3]] == ["red", "green", "blue"]
    assert pools.read_manifest(store, pid)["active"] == 2  # unchanged
    report = check.check_store(store, now=time.time() + LATER)
    assert kinds(report) == ["missing_thumbnail"] and report.ok  # made lazily, like adds


def test_repair_deletes_nothing_without_the_flag(store, pool):
    pid, _ = pool
    old = f"{pid}/img_0098_00c0ffee.png"
    store.write_bytes(old, png((3, 3, 3)))
    next_second()
    pools.set_label(store, pid, 1, "newer manifest")
    next_second()
    new = f"{pid}/img_0099_00facade.png"
    store.write_bytes(new, png((4, 4, 4)))
    keys = set(store.walk(pid))
    check.check_store(store, repair=True, grace_seconds=0, now=time.time() + LATER)
    assert keys <= set(store.walk(pid))  # nothing deleted (thumbnails may be added)
    used = {s["image"] for s in pools.read_manifest(store, pid)["slots"]}
    assert new.split("/")[1] in used and old.split("/")[1] not in used


def test_missing_image_drops_its_slot_and_keeps_labels(store, pool):
    pid, names = pool
    store.delete(pools.blob_key(pid, names[0]))
    report = check.check_store(store)
    assert kinds(report) == ["missing_image", "orphan_thumbnail"]
    assert report.issues[0].severity == "error"
    report = check.check_store(store, repair=True, now=time.time() + LATER)
    assert report.ok
    view = pools.pool_view(store, pid)
    assert [s["label"] for s in view["slots"]] == ["green", "blue"]
    assert view["active"] == 1  # the active slot followed its image
    assert check.check_store(store).issues == []


def test_missing_mask_is_cleared(store, pool):
    pid, _ = pool
    mask = pools.read_manifest(store, pid)["slots"][2]["mask"]
    store.delete(pools.blob_key(pid, mask))
    report = check.check_store(store, repair=True)
    assert kinds(report) == ["missing_mask"] and report.issues[0].repaired
    assert pools.read_manifest(store, pid)["slots"][2]["mask"] is None


def test_missing_thumbnail_is_remade(store, pool):
    pid, names = pool
    thumb = f"{pid}/thumbs/{names[1]}.webp"
    store.delete(thumb)
    report = check.check_store(store)
    assert kinds(report) == ["missing_thumbnail"] and report.ok  # only a note
    check.check_store(store, repair=True)
    assert store.exists(thumb)


def test_corrupt_manifest_is_reported_never_replaced(store, pool):
    pid, names = pool
    key = f"{pid}/manifest.json"
    store.write_bytes(key, b'{"slots": [')
    report = check.check_store(store, repair=True, now=time.time() + LATER)
    assert kinds(report) == ["manifest_corrupt"] and not report.ok
    assert store.read_bytes(key) == b'{"slots": ['
    for name in names:  # which blobs are used is unknown: none is touched
        assert store.exists(pools.blob_key(pid, name))


def test_too_deeply_nested_documents_are_reported_as_corrupt(mem_pool):
    store, pid = mem_pool
    deep = b"[" * 100_000 + b"]" * 100_000  # json.loads raises RecursionError
    store.write_bytes(f"{pid}/manifest.json", deep)
    store.write_bytes(registry.REGISTRY_KEY, deep)
    report = check.check_store(store, repair=True)
    assert kinds(report) == ["manifest_corrupt", "registry_corrupt"]
    assert store.read_bytes(f"{pid}/manifest.json") == deep


def test_manifest_naming_a_path_is_corrupt(store, pool):
    pid, _ = pool
    store.write_bytes(
        f"{pid}/manifest.json", json.dumps({"slots": [{"image": "../x.png"}]}).encode()
    )
    assert kinds(check.check_store(store)) == ["manifest_corrupt"]


def test_corrupt_registry_is_reported_never_replaced(store, pool):
    store.write_bytes(registry.REGISTRY_KEY, b"{ trunc")
    report = check.check_store(store, repair=True)
    assert "registry_corrupt" in kinds(report) and not report.ok
    assert store.read_bytes(registry.REGISTRY_KEY) == b"{ trunc"
    assert report.pools == 1  # pools are still checked


def test_leftover_temp_file_on_local_disk(store, pool):
    pid, _ = pool
    path = store.local_path(f"{pid}/manifest.json")
    if path is None:
        pytest.skip("only the local backend leaves temp files")
    tmp = os.path.join(os.path.dirname(path), ".manifest.json.0123abcd.tmp")
    with open(tmp, "wb") as f:
        f.write(b"{")
    report = check.check_store(store, repair=True)
    assert kinds(report) == ["temp_file"] and os.path.exists(tmp)  # too recent to delete
    report = check.check_store(store, repair=True, now=time.time() + LATER)
    assert report.ok and not os.path.exists(tmp)


def test_quarantined_copies_are_noted_and_kept(store, pool):
    pid, _ = pool
    aside = store.quarantine(f"{pid}/manifest.json")
    report = check.check_store(store, repair=True, now=time.time() + LATER)
    assert kinds(report) == ["quarantined"] and report.ok
    assert store.exists(aside)


def test_node_pools_without_profile_are_checked(store):
    pools.add_image(store, "node-pool-1", png())
    store.write_bytes("node-pool-1/img_0042_0badf00d.png", png((9, 9, 9)))
    report = check.check_store(store)
    assert report.profiles == 0 and report.pools == 1
    assert kinds(report) == ["possibly_lost_slot"]


def test_repair_never_writes_a_manifest_for_a_pool_deleted_meanwhile(store, pool, monkeypatch):
    monkeypatch.setenv("POOL_PROFILES_HISTORY_VERSIONS", "0")  # the no-history behaviour
    # A missing image is found; before the repair's manifest update runs, the profile
    # is deleted. The repair must not create an empty (unparsable) manifest.
    pid, names = pool
    store.delete(pools.blob_key(pid, names[0]))
    real_ls = check._ls

    def ls(st, prefix):
        out = real_ls(st, prefix)
        if prefix == f"{pid}/{pools.THUMBS}":
            registry.delete_profile(store, pid)
        return out

    monkeypatch.setattr(check, "_ls", ls)
    check.check_store(store, repair=True)
    monkeypatch.undo()
    assert store.walk(pid) == []


def test_cli_delete_orphans_needs_repair(tmp_path, capsys):
    from pool_profiles.cli import main

    assert main(["--store", str(tmp_path / "s"), "check", "--delete-orphans"]) == 1
    assert "--delete-orphans needs --repair" in capsys.readouterr().err
