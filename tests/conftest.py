"""Shared fixtures: every backend under test (local, memory, S3 on a local moto
server) as `store_spec` / `store`, so each suite runs against all of them."""

from __future__ import annotations

import logging
import os
import uuid

import pytest

from pool_profiles.testing.spec import StoreSpec

BACKENDS = ["local", "memory", "s3"]
BUCKET = "pool-profiles-test"

logging.getLogger("werkzeug").setLevel(logging.ERROR)


@pytest.fixture(scope="session")
def moto_endpoint():
    """A moto S3 endpoint on 127.0.0.1 ($POOL_PROFILES_TEST_S3_ENDPOINT, or started here)."""
    pytest.importorskip("s3fs")
    from pool_profiles.testing.moto_server import LockedMotoServer, create_bucket

    endpoint = os.environ.get("POOL_PROFILES_TEST_S3_ENDPOINT")
    server = None
    if not endpoint:
        server = LockedMotoServer()
        server.start()
        endpoint = server.endpoint
    assert endpoint.startswith(("http://127.0.0.1", "http://localhost")), "tests never use real AWS"
    create_bucket(endpoint, BUCKET)
    yield endpoint
    if server is not None:
        server.stop()


def make_spec(kind: str, request: pytest.FixtureRequest, tmp_path) -> StoreSpec:
    tag = uuid.uuid4().hex[:12]
    if kind == "local":
        return StoreSpec(str(tmp_path / "store"))
    if kind == "memory":
        return StoreSpec(f"memory://test-{tag}")
    if kind == "s3":
        from pool_profiles.testing.moto_server import s3_options

        endpoint = request.getfixturevalue("moto_endpoint")
        return StoreSpec(f"s3://{BUCKET}/{tag}", s3_options(endpoint))
    raise ValueError(kind)


@pytest.fixture(params=BACKENDS)
def store_spec(request, tmp_path) -> StoreSpec:
    return make_spec(request.param, request, tmp_path)


@pytest.fixture
def store(store_spec):
    return store_spec.open()


@pytest.fixture
def s3_spec(request, tmp_path) -> StoreSpec:
    return make_spec("s3", request, tmp_path)
