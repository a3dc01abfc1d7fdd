"""SeaweedFS, a real S3 server (started by conftest's `seaweed_server`): the CLI round
trip, its directory placeholders (a pool is what has a manifest), and the probe."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from PIL import Image

from pool_profiles import check, config, pools, registry
from pool_profiles.cli import main
from pool_profiles.store import cas_probe


@pytest.fixture(autouse=True)
def no_env_store(monkeypatch):
    monkeypatch.delenv("POOL_PROFILES_STORE", raising=False)
    monkeypatch.delenv("POOL_PROFILES_STORE_OPTIONS", raising=False)


def png_file(path, color):
    Image.new("RGB", (8, 6), color).save(path, "PNG")
    return str(path)


@pytest.fixture
def cli(capsys, seaweed_spec):
    def run(*argv: str):
        args = ["--store", seaweed_spec.url, "--store-options", json.dumps(seaweed_spec.options)]
        rc = main(args + list(argv))
        out, err = capsys.readouterr()
        return rc, out, err

    return run


def test_probe_passes_on_seaweedfs(seaweed_spec):
    store = seaweed_spec.open()
    assert cas_probe.probe(store) is None  # creates the probe object
    assert cas_probe.probe(store) is None  # and again with the object already there
    opened = config.open_configured(config.StoreConfig(seaweed_spec.url, seaweed_spec.options))
    assert opened.cas_problem is None and not opened.capabilities.single_writer


def test_cli_round_trip(cli, tmp_path):
    rc, out, err = cli("profiles", "create", "Alpha", "--json")
    assert rc == 0, err
    pid = json.loads(out)["id"]
    for i, color in enumerate([(255, 0, 0), (0, 255, 0)]):
        rc, _, err = cli("pool", "add", pid, png_file(tmp_path / f"{i}.png", color))
        assert rc == 0, err
    rc, out, _ = cli("pool", "list", pid, "--json")
    assert rc == 0 and json.loads(out)["count"] == 2
    zip_path = tmp_path / "alpha.zip"
    assert cli("export", pid, str(zip_path))[0] == 0
    with zipfile.ZipFile(zip_path) as zf:
        assert "profile_meta.json" in zf.namelist()
    rc, out, err = cli("import", str(zip_path), "--name", "Beta", "--json")
    assert rc == 0, err
    beta = json.loads(out)["id"]
    assert cli("profiles", "duplicate", pid, "Gamma")[0] == 0
    rc, out, err = cli("check", "--json")
    report = json.loads(out)
    assert rc == 0 and report["ok"], report
    assert (report["profiles"], report["pools"]) == (3, 3)
    rc, _, err = cli("profiles", "delete", beta)
    assert rc == 0, err
    rc, out, _ = cli("profiles", "list", "--json")
    assert sorted(p["name"] for p in json.loads(out)) == ["Alpha", "Gamma"]
    rc, out, _ = cli("check", "--json")
    report = json.loads(out)
    # The deleted profile's pool is kept for "Recently deleted" (history), and says so.
    assert rc == 0 and (report["profiles"], report["pools"]) == (2, 3), report
    assert any(i["kind"] == "deleted_profile" for i in report["issues"]), report


def test_deleted_profile_leaves_nothing_a_listing_returns(seaweed_spec, monkeypatch):
    # With history off the delete is at once (with history, once its version is pruned,
    # through the same delete_tree): no emptied folder may stay listed.
    monkeypatch.setenv("POOL_PROFILES_HISTORY_VERSIONS", "0")
    store = seaweed_spec.open()
    pid = registry.create_profile(store, "Gone soon")["id"]
    buf = io.BytesIO()
    Image.new("RGB", (8, 6), (1, 2, 3)).save(buf, "PNG")
    pools.add_image(store, pid, buf.getvalue())
    assert pid in {e.name for e in store.listdir("")}
    registry.delete_profile(store, pid)
    assert pid not in {e.name for e in store.listdir("")}
    assert store.walk(pid) == [] and store.listdir(pid) == []
    report = check.check_store(store)
    assert report.ok and report.pools == 0 and report.issues == []


def test_folder_placeholders_are_never_pools(seaweed_spec):
    # A folder whose objects went one by one (not delete_tree) stays as a placeholder.
    store = seaweed_spec.open()
    store.write_bytes("leftover/thumbs/x.png.webp", b"x")
    store.delete("leftover/thumbs/x.png.webp")
    assert store.walk("leftover") == []
    report = check.check_store(store)
    assert report.ok and report.pools == 0 and report.issues == []
    # and a node's pool may still be made there: the placeholder is no content
    pools.add_image(store, "leftover", _png())
    assert check.check_store(store).pools == 1


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 6), (9, 9, 9)).save(buf, "PNG")
    return buf.getvalue()
