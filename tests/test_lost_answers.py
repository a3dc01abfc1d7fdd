"""A conditional write whose answer is lost on the way back (the connection dropped
after the service carried it out): the client library retries it, and the retry is
refused, since the first try landed. That refusal must not read as a conflict, or
update_json would apply the change a second time on top of itself. A proxy in front
of the service (moto, SeaweedFS, fake-gcs-server, Azurite) carries out the write and closes the
connection without its answer."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from images import png

from pool_profiles import history, pools, registry
from pool_profiles.backends import open_store
from pool_profiles.testing.moto_server import s3_options

BUCKET = "pool-profiles-test"


def _options(kind: str, endpoint: str, service: Any) -> tuple[str, dict]:
    tag = uuid.uuid4().hex[:12]
    if kind == "s3":
        return f"s3://{BUCKET}/{tag}", s3_options(endpoint)
    if kind == "seaweedfs":  # a real S3 server: its own credentials
        return f"s3://{BUCKET}/{tag}", {**service.options(), "endpoint_url": endpoint}
    if kind == "gcs":
        from pool_profiles.testing.gcs_server import gcs_options

        return f"gs://{BUCKET}/{tag}", gcs_options(endpoint)
    from pool_profiles.testing.azurite import azure_options

    return f"az://{BUCKET}/{tag}", azure_options(endpoint)


SERVICES = {
    "s3": "moto_endpoint",
    "seaweedfs": "seaweed_server",
    "gcs": "gcs_endpoint",
    "azure": "azurite_endpoint",
}


@pytest.fixture(params=sorted(SERVICES))
def lossy(request):
    from pool_profiles.testing.stripping_proxy import StrippingProxy

    service = request.getfixturevalue(SERVICES[request.param])
    target = service if isinstance(service, str) else service.endpoint
    with StrippingProxy(target, strip=False) as proxy:
        url, options = _options(request.param, proxy.endpoint, service)
        yield open_store(url, options), proxy, options


def test_a_removed_slot_whose_answer_was_lost_is_removed_once(lossy):
    store, proxy, options = lossy
    for i, label in enumerate(["a", "b", "c"]):
        pools.add_image(store, "p", png((i * 60, 0, 0)), label=label)
    proxy.lose_write_answers(1)
    doc = pools.remove_slot(store, "p", 0)
    assert [s["label"] for s in doc["slots"]] == ["b", "c"]
    assert [s["label"] for s in pools.read_manifest(store, "p")["slots"]] == ["b", "c"]
    versions = history.pool_history(store, "p")["versions"]
    assert [v["description"][:14] for v in versions[:2]] == ["removed slot 0", "added slot 2 ("]


def test_a_created_profile_whose_answer_was_lost_is_created_once(lossy):
    store, proxy, options = lossy
    proxy.lose_write_answers(1)
    made = registry.create_profile(store, "Portraits")
    assert [p["id"] for p in registry.list_profiles(store)] == [made["id"]]


def test_a_real_conflict_after_a_retry_is_still_a_conflict(lossy):
    """The lost answer's write was overwritten by someone else before the retry: the
    object does not hold our bytes, so the change is applied again on theirs."""
    store, proxy, options = lossy
    pools.add_image(store, "p", png(), label="a")
    pools.add_image(store, "p", png((0, 255, 0)), label="b")
    other = open_store(store.url, options)
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
