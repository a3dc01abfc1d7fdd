"""The `pool-profiles` command: profiles, pool, export/import, copy (local <-> S3), check,
and one-line errors."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from pool_profiles import pools, registry
from pool_profiles.backends import open_store
from pool_profiles.cli import main


def write_png(path: Path, color, size=(8, 6)) -> Path:
    Image.new("RGB", size, color).save(path, "PNG")
    return path


@pytest.fixture(autouse=True)
def no_env_store(monkeypatch):
    monkeypatch.delenv("POOL_PROFILES_STORE", raising=False)
    monkeypatch.delenv("POOL_PROFILES_STORE_OPTIONS", raising=False)


@pytest.fixture
def cli(capsys, tmp_path):
    """Run the CLI in-process against a local store; returns (rc, stdout, stderr)."""
    root = str(tmp_path / "store")

    def run(*argv: str, store: str | None = root, options: dict | None = None):
        args = []
        if store is not None:
            args += ["--store", store]
        if options:
            args += ["--store-options", json.dumps(options)]
        rc = main(args + list(argv))
        out, err = capsys.readouterr()
        return rc, out, err

    run.root = root
    return run


@pytest.fixture
def images(tmp_path) -> list[str]:
    return [
        str(write_png(tmp_path / "red.png", (255, 0, 0))),
        str(write_png(tmp_path / "green.png", (0, 255, 0), (5, 9))),
        str(write_png(tmp_path / "blue.png", (0, 0, 255))),
    ]


def one_error_line(rc: int, err: str) -> str:
    assert rc != 0
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("pool-profiles: error: "), err
    assert "Traceback" not in err
    return lines[0]


def create(cli, name: str) -> str:
    rc, out, _ = cli("profiles", "create", name, "--json")
    assert rc == 0
    return json.loads(out)["id"]


# -- profiles and pools --------------------------------------------------------------


def test_profiles_lifecycle(cli):
    pid = create(cli, "Alpha")
    rc, out, _ = cli("profiles", "list")
    assert rc == 0 and pid in out and "Alpha" in out
    assert cli("profiles", "rename", pid, "Beta")[0] == 0
    rc, out, _ = cli("profiles", "duplicate", pid, "Gamma", "--json")
    dup = json.loads(out)["id"]
    rc, out, _ = cli("profiles", "list", "--json")
    assert {(e["id"], e["name"]) for e in json.loads(out)} == {(pid, "Beta"), (dup, "Gamma")}
    assert cli("profiles", "delete", pid)[0] == 0
    rc, out, _ = cli("profiles", "list", "--json")
    assert [e["name"] for e in json.loads(out)] == ["Gamma"]


def test_pool_add_and_list(cli, images):
    pid = create(cli, "Alpha")
    rc, out, err = cli("pool", "add", pid, *images, "--label", "x")
    assert rc == 0, err
    assert out.count("added ") == 3
    assert "\r" not in err  # no progress bar when stderr is not a terminal
    rc, out, _ = cli("pool", "list", pid, "--json")
    view = json.loads(out)
    assert view["count"] == 3 and view["active"] == 0  # adds keep the active slot
    assert [s["label"] for s in view["slots"]] == ["x", "x", "x"]
    store = open_store(cli.root, {})
    assert pools.read_blob(store, pid, view["slots"][1]["image"]) == Path(images[1]).read_bytes()
    rc, out, _ = cli("pool", "list", pid)
    assert rc == 0 and "3 image(s)" in out


# -- export / import -----------------------------------------------------------------


def test_export_import_roundtrip(cli, images, tmp_path):
    pid = create(cli, "Alpha")
    cli("pool", "add", pid, *images)
    zpath = tmp_path / "alpha.zip"
    rc, _, err = cli("export", pid, str(zpath))
    assert rc == 0, err
    assert zipfile.ZipFile(zpath).testzip() is None
    assert not list(tmp_path.glob("*.part"))
    rc, out, _ = cli("import", str(zpath), "--json")
    entry = json.loads(out)
    assert entry["name"] == "Alpha (2)"
    rc, out, _ = cli("import", str(zpath), "--name", "Imported")
    assert rc == 0 and "Imported" in out
    store = open_store(cli.root, {})
    a = [pools.read_blob(store, pid, s["image"]) for s in pools.read_manifest(store, pid)["slots"]]
    b = [
        pools.read_blob(store, entry["id"], s["image"])
        for s in pools.read_manifest(store, entry["id"])["slots"]
    ]
    assert a == b == [Path(p).read_bytes() for p in images]


# -- copy between stores (local -> S3 on moto -> local) ------------------------------


def test_copy_local_to_s3_and_back(cli, images, s3_spec, tmp_path):
    pid = create(cli, "Travels")
    cli("pool", "add", pid, *images)
    opts = json.dumps(s3_spec.options)
    rc, out, err = cli("copy", "--to", s3_spec.url, "--to-options", opts, pid)
    assert rc == 0, err
    assert pid in out
    s3 = s3_spec.open()
    assert [e["name"] for e in registry.list_profiles(s3)] == ["Travels"]

    back = str(tmp_path / "back")
    rc, out, err = cli("copy", "--to", back, store=s3_spec.url, options=s3_spec.options)
    assert rc == 0, err
    local, returned = open_store(cli.root, {}), open_store(back, {})
    assert registry.get_profile(returned, pid)["name"] == "Travels"
    src_slots = pools.read_manifest(local, pid)["slots"]
    dst_slots = pools.read_manifest(returned, pid)["slots"]
    assert [s["image"] for s in src_slots] == [s["image"] for s in dst_slots]
    for s in src_slots:
        original = Path(cli.root, pid, s["image"]).read_bytes()
        assert Path(back, pid, s["image"]).read_bytes() == original
        assert pools.read_blob(s3, pid, s["image"]) == original


# -- check ---------------------------------------------------------------------------


def test_check_reports_and_exit_status(cli, images):
    pid = create(cli, "Alpha")
    cli("pool", "add", pid, images[0])
    rc, out, _ = cli("check", "--json")
    assert rc == 0 and json.loads(out)["ok"] is True
    store = open_store(cli.root, {})
    name = pools.read_manifest(store, pid)["slots"][0]["image"]
    store.delete(pools.blob_key(pid, name))
    rc, out, err = cli("check", "--json")
    report = json.loads(out)
    assert report["ok"] is False
    assert [i["kind"] for i in report["issues"]] == ["missing_image", "orphan_thumbnail"]
    one_error_line(rc, err)
    rc, out, err = cli("check", "--repair", "--grace", "0")
    assert rc == 0, err
    assert "(repaired)" in out


# -- errors: non-zero exit, one line, no traceback -----------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["import", "{tmp}/missing.zip"],
        ["import", "{tmp}/not-a-zip.zip"],
        ["pool", "add", "some-pool", "{tmp}/missing.png"],
        ["pool", "add", "some-pool", "{tmp}/not-a-zip.zip"],
        ["pool", "add", "../escape", "{tmp}/missing.png"],
        ["pool", "list", "bad id!"],
        ["export", "unknown", "{tmp}/out.zip"],
        ["export", "x", "{tmp}/no-such-dir/out.zip"],
        ["profiles", "rename", "unknown", "New"],
        ["profiles", "delete", "unknown"],
        ["profiles", "create", "   "],
        ["copy", "--to", "{tmp}/other", "--to-options", "{{not json"],
        ["copy", "--to", "nosuchscheme://x"],
        ["copy", "--to", "{tmp}/other", "unknown"],
    ],
)
def test_errors_are_one_line(cli, tmp_path, argv):
    (tmp_path / "not-a-zip.zip").write_text("hello")
    create(cli, "x-profile")
    store = open_store(cli.root, {})
    pid = registry.list_profiles(store)[0]["id"]
    argv = [a.format(tmp=tmp_path) for a in argv]
    argv = [pid if a == "x" else a for a in argv]
    rc, _, err = cli(*argv)
    one_error_line(rc, err)
    assert not (tmp_path / "out.zip").exists()


def test_duplicate_name_is_one_line(cli):
    create(cli, "Alpha")
    rc, _, err = cli("profiles", "create", "alpha")
    assert "already exists" in one_error_line(rc, err)


def test_real_process_error_has_no_traceback(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pool_profiles.cli",
            "--store",
            str(tmp_path / "s"),
            "import",
            str(tmp_path / "missing.zip"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == [
        f"pool-profiles: error: {tmp_path / 'missing.zip'}: no such file"
    ]


def test_export_to_stdout(tmp_path, images, capsysbinary):
    root = str(tmp_path / "store")
    assert main(["--store", root, "profiles", "create", "Alpha", "--json"]) == 0
    pid = json.loads(capsysbinary.readouterr().out)["id"]
    assert main(["--store", root, "pool", "add", pid, images[0]]) == 0
    capsysbinary.readouterr()
    assert main(["--store", root, "export", pid, "-"]) == 0
    data = capsysbinary.readouterr().out
    assert zipfile.ZipFile(io.BytesIO(data)).namelist()[0] == "profile_meta.json"


def test_progress_bars_only_on_a_terminal_without_json(cli, images, tmp_path, monkeypatch):
    pid = create(cli, "Alpha")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    rc, _, err = cli("pool", "add", pid, *images)
    assert rc == 0 and "adding" in err
    rc, _, err = cli("pool", "add", pid, *images, "--json")
    assert rc == 0 and "adding" not in err
    rc, _, err = cli("pool", "add", pid, images[0])  # a single image needs no bar
    assert rc == 0 and "adding" not in err
    rc, _, err = cli("export", pid, str(tmp_path / "a.zip"))
    assert rc == 0 and "exporting" in err
    rc, _, err = cli("import", str(tmp_path / "a.zip"))
    assert rc == 0 and "importing" in err


def test_serve_on_a_busy_port_is_one_line(tmp_path, capsys):
    import socket

    from pool_profiles.cli import main

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = main(["--store", str(tmp_path / "s"), "serve", "--port", str(port)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(err) == 1 and "address already in use" in err[0]


def test_core_and_cli_import_no_server_torch_or_comfy():
    # The core is pure: aiohttp, torch, numpy and ComfyUI belong to the layers above.
    code = (
        "import sys\n"
        "import pool_profiles.pools, pool_profiles.registry, pool_profiles.archive\n"
        "import pool_profiles.transfer, pool_profiles.check, pool_profiles.config\n"
        "import pool_profiles.imaging, pool_profiles.backends, pool_profiles.cli\n"
        "pool_profiles.cli.build_parser()\n"
        "heavy = ('aiohttp', 'torch', 'numpy', 'comfy', 'folder_paths', 'server', 'nodes')\n"
        "ours = ('pool_profiles.server', 'pool_profiles.nodes', 'pool_profiles.comfy')\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in heavy or m.startswith(ours)]\n"
        "print(sorted(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("argv", [["profiles", "list"], ["pool", "list", "p1"]])
def test_corrupt_document_is_one_error_line_in_a_real_process(tmp_path, argv):
    # The core also logs the damage (for server logs); the CLI must still say it once.
    root = tmp_path / "s"
    (root / "p1").mkdir(parents=True)
    (root / "profiles.json").write_text('{"profiles": [')
    (root / "p1" / "manifest.json").write_text('{"slots": [')
    proc = subprocess.run(
        [sys.executable, "-m", "pool_profiles.cli", "--store", str(root), *argv],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("pool-profiles: error: ") and "corrupt" in lines[0]


def test_cli_log_lines_have_one_prefix(tmp_path):
    # A generic fsspec store warns (on writes) that it is single-writer: one prefix only.
    options = json.dumps(
        {"path": str(tmp_path), "target_protocol": "file", "target_options": {"auto_mkdir": True}}
    )
    argv = ["--store", "dir://sub", "--store-options", options, "profiles", "create", "A"]
    proc = subprocess.run(
        [sys.executable, "-m", "pool_profiles.cli", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "POOL_PROFILES_STORE": ""},
    )
    assert proc.returncode == 0, proc.stderr
    assert "single writer" in proc.stderr
    assert "pool-profiles: pool-profiles:" not in proc.stderr
