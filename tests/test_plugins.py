"""Backends arrive through entry points: the example plugin distribution under
tests/example_plugin (installed by the README's test command) is discovered, listed
by `pool-profiles backends`, and passes the conformance suite."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, distribution

import pytest

from pool_profiles.backends import discover, open_store
from pool_profiles.cli import main
from pool_profiles.testing.conformance import StoreConformance
from pool_profiles.testing.spec import StoreSpec

try:
    distribution("pool-profiles-example-backend")
    HAVE_PLUGIN = True
except PackageNotFoundError:
    HAVE_PLUGIN = False

needs_plugin = pytest.mark.skipif(
    not HAVE_PLUGIN, reason="pip install ./tests/example_plugin (README's test command does)"
)


def test_builtins_are_entry_points():
    found = discover()
    for scheme in ("file", "memory", "s3"):
        assert found[scheme].backend is not None
        assert "entry point" in found[scheme].origin or "built-in" in found[scheme].origin


@needs_plugin
def test_plugin_discovered_through_entry_point():
    item = discover()["folder"]
    assert "pool-profiles-example-backend" in item.origin
    assert item.backend is not None and item.missing is None


@needs_plugin
def test_backends_command_lists_plugin(capsys):
    assert main(["backends", "--json"]) == 0
    rows = {r["scheme"]: r for r in json.loads(capsys.readouterr().out)}
    assert {"file", "memory", "s3", "folder"} <= set(rows)
    assert rows["folder"]["capabilities"]["conditional_write"] == "none"
    assert rows["s3"]["capabilities"]["conditional_write"] == "native"


@needs_plugin
def test_plugin_store_is_single_writer(tmp_path, caplog):
    store = open_store(f"folder://{tmp_path}")
    assert store.capabilities.single_writer
    assert "single" in caplog.text and "conditional writes" in caplog.text


@needs_plugin
class TestExamplePluginConformance(StoreConformance):
    @pytest.fixture
    def store_spec(self, tmp_path):
        return StoreSpec(f"folder://{tmp_path}")


def test_generic_fsspec_scheme_works_single_writer(tmp_path, caplog):
    # "dir" has no backend of ours: fsspec knows it, so the generic backend serves it.
    options = {"path": str(tmp_path), "target_protocol": "file"}
    options["target_options"] = {"auto_mkdir": True}
    store = open_store("dir://sub", options)
    assert store.backend == "fsspec:dir" and store.capabilities.single_writer
    assert "cannot do conditional writes" in caplog.text
    store.update_json("a/doc.json", lambda d: d.update(x=1))
    assert store.read_json("a/doc.json") == {"x": 1}
    assert (tmp_path / "sub" / "a" / "doc.json").exists()


def test_cli_backends_runs_as_console_script():
    out = subprocess.run(
        [sys.executable, "-m", "pool_profiles.cli", "backends"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "s3://" in out.stdout and "memory://" in out.stdout and "file://" in out.stdout


def test_generic_backend_takes_host_and_user_from_the_url(tmp_path, monkeypatch):
    # ftp://, sftp://, smb://: fsspec wants the host as an argument; the URL holds it.
    import importlib

    import fsspec
    from fsspec.implementations.memory import MemoryFileSystem

    class HostedFS(MemoryFileSystem):
        protocol = "hostedtest"

        def __init__(self, host, username=None, password=None, **kw):
            super().__init__(**kw)
            self.host, self.username = host, username

        @classmethod
        def _strip_protocol(cls, path):
            return "/" + path.split("://", 1)[-1].split("/", 1)[-1].strip("/")

        @staticmethod
        def _get_kwargs_from_urls(path):
            netloc = path.split("://", 1)[1].split("/", 1)[0]
            user, _, host = netloc.rpartition("@")
            name, _, pw = user.partition(":")
            return {"host": host, "username": name or None, "password": pw or None}

    registry = importlib.import_module("fsspec.registry")
    monkeypatch.setitem(registry._registry, "hostedtest", HostedFS)
    assert "hostedtest" in fsspec.registry  # registered as a class at run time
    store = open_store("hostedtest://me:pw@example.org/pools")
    assert store.fs.host == "example.org" and store.fs.username == "me"
    assert "pw" not in store.url and store.url.startswith("hostedtest://example.org")
    store.write_bytes("a.txt", b"x")
    assert store.read_bytes("a.txt") == b"x"
