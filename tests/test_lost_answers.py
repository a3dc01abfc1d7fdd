"""A conditional write whose answer is lost on the way back (the connection dropped
after S3 carried it out): botocore retries it, and the retry is refused, since the
first try landed. That refusal must not read as a conflict, or update_json would
apply the change a second time on top of itself. A proxy in front of moto carries
out the PUT and closes the connection without its answer."""

from __future__ import annotations

import uuid

import pytest
from images import png

from pool_profiles import history, pools, registry
from pool_profiles.backends import open_store
from pool_profiles.testing.moto_server import s3_options

BUCKET = "pool-profiles-test"


@pytest.fixture
def lossy(moto_endpoint):
    from pool_profiles.testing.stripping_proxy import StrippingProxy

    with StrippingProxy(moto_endpoint, strip=False) as proxy:
        store = open_store(f"s3://{BUCKET}/{uuid.uuid4().hex[:12]}", s3_options(proxy.endpoint))
        yield store, proxy


def test_a_removed_slot_whose_answer_was_lost_is_removed_once(lossy):
    store, proxy = lossy
    for i, label in enumerate(["a", "b", "c"]):
        pools.add_image(store, "p", png((i * 60, 0, 0)), label=label)
    proxy.lose_put_answers(1)
    doc = pools.remove_slot(store, "p", 0)
    assert [s["label"] for s in doc["slots"]] == ["b", "c"]
    assert [s["label"] for s in pools.read_manifest(store, "p")["slots"]] == ["b", "c"]
    versions = history.pool_history(store, "p")["versions"]
    assert [v["description"][:14] for v in versions[:2]] == ["removed slot 0", "added slot 2 ("]


def test_a_created_profile_whose_answer_was_lost_is_created_once(lossy):
    store, proxy = lossy
    proxy.lose_put_answers(1)
    made = registry.create_profile(store, "Portraits")
    assert [p["id"] for p in registry.list_profiles(store)] == [made["id"]]


def test_a_real_conflict_after_a_retry_is_still_a_conflict(lossy):
    """The lost answer's write was overwritten by someone else before the retry: the
    object does not hold our bytes, so the change is applied again on theirs."""
    store, proxy = lossy
    pools.add_image(store, "p", png(), label="a")
    pools.add_image(store, "p", png((0, 255, 0)), label="b")
    other = open_store(store.url, s3_options(proxy.endpoint))
    real = store.write_if
    once = []

    def write_if(key, data, version):
        if not once and key.endswith("manifest.json"):
            once.append(True)
            pools.set_label(other, "p", 1, "theirs")  # lands between our read and write
        return real(key, data, version)

    store.write_if = write_if
    pools.set_label(store, "p", 0, "ours")
    assert [s["label"] for s in pools.read_manifest(store, "p")["slots"]] == ["ours", "theirs"]
