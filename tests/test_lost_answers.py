"""A conditional write whose answer is lost: the SDK retries it, and the retry is
refused because the first try did land (S3 answers 412, GCS 412, Azure 409). The
change must count once, never be applied a second time on top of itself."""

from __future__ import annotations

import pytest
from images import png

from pool_profiles import history, pools, registry
from pool_profiles.store import VersionConflict


@pytest.fixture
def lossy(store, monkeypatch):
    """After `arm()`, the next conditional write lands, then reports a conflict."""
    real = store.write_if
    armed = []

    def write_if(key, data, version):
        out = real(key, data, version)
        if armed:
            armed.clear()
            raise VersionConflict(f"{key} changed since it was read (a retry, refused)")
        return out

    monkeypatch.setattr(store, "write_if", write_if)
    return lambda: armed.append(True)


def test_a_removed_slot_whose_answer_was_lost_is_removed_once(store, lossy):
    for i, label in enumerate(["a", "b", "c"]):
        pools.add_image(store, "p", png((i * 60, 0, 0)), label=label)
    lossy()
    doc = pools.remove_slot(store, "p", 0)
    assert [s["label"] for s in doc["slots"]] == ["b", "c"]
    assert [s["label"] for s in pools.read_manifest(store, "p")["slots"]] == ["b", "c"]
    versions = history.pool_history(store, "p")["versions"]
    assert versions[0]["description"].startswith("removed slot 0")
    assert not any(v["description"].startswith("removed slot 0") for v in versions[1:])


def test_a_created_profile_whose_answer_was_lost_is_created(store, lossy):
    lossy()
    made = registry.create_profile(store, "Portraits")
    assert [p["id"] for p in registry.list_profiles(store)] == [made["id"]]


def test_a_real_conflict_still_applies_the_change_on_the_new_document(store, monkeypatch):
    pools.add_image(store, "p", png(), label="a")
    pools.add_image(store, "p", png((0, 255, 0)), label="b")
    real = store.write_if
    rival = []

    def write_if(key, data, version):
        if not rival:  # another instance changes the pool just before our write
            rival.append(True)
            real(key, data.replace(b'"label":"b"', b'"label":"theirs"'), version)
        return real(key, data, version)

    monkeypatch.setattr(store, "write_if", write_if)
    pools.set_label(store, "p", 0, "ours")
    labels = [s["label"] for s in pools.read_manifest(store, "p")["slots"]]
    assert labels == ["ours", "theirs"]
