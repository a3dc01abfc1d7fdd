"""What killed processes and dropped clients leave on the local disk: export part
files beside the target (kill -9 mid-export), upload spools (a server killed mid-
import), and the log of a client that drops mid-upload (one line, no traceback)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import zipfile

import pytest
from aiohttp import web
from PIL import Image

from pool_profiles import partfiles, pools, registry
from pool_profiles.backends import open_store
from pool_profiles.server import uploads
from pool_profiles.server.app import make_app


def png(color=(255, 0, 0)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buf, "PNG")
    return buf.getvalue()


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POOL_PROFILES_")}
    env.update(extra)
    return env


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# -- part files ---------------------------------------------------------------------


def test_only_stale_part_files_of_ours_are_removed(tmp_path):
    live = tmp_path / ("." + partfiles.part_name("a.zip"))
    dead = tmp_path / f".b.zip.pool-profiles-{dead_pid()}-0123abcd.part"
    old = tmp_path / f".c.zip.pool-profiles-{os.getpid()}-0123abcd.part"
    foreign = tmp_path / "d.zip.1234.part"
    for path in (live, dead, old, foreign):
        path.write_bytes(b"x")
    past = time.time() - partfiles.MAX_AGE_SECONDS - 10
    os.utime(old, (past, past))
    assert sorted(partfiles.remove_stale(str(tmp_path))) == sorted([dead.name, old.name])
    assert sorted(os.listdir(tmp_path)) == sorted([live.name, foreign.name])


EXPORT_KILLER = """
import os, signal, sys
from pool_profiles import archive
from pool_profiles.backends import open_store

def progress(done, total):
    os.kill(os.getpid(), signal.SIGKILL)  # after the first blob went into the part file

archive.export_to_path(open_store(sys.argv[1]), sys.argv[2], sys.argv[3], progress=progress)
"""


def test_export_killed_midway_leaves_a_part_file_the_next_export_removes(tmp_path):
    root = str(tmp_path / "store")
    store = open_store(root)
    pid = registry.create_profile(store, "Dogs")["id"]
    for color in ((255, 0, 0), (0, 255, 0), (0, 0, 255)):
        pools.add_image(store, pid, png(color))
    out = tmp_path / "out"
    out.mkdir()
    target = str(out / "dogs.zip")
    proc = subprocess.run(
        [sys.executable, "-c", EXPORT_KILLER, root, pid, target],
        env=clean_env(),
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    [left] = os.listdir(out)
    assert left.startswith(".dogs.zip.pool-profiles-") and left.endswith(".part")

    cli = [sys.executable, "-m", "pool_profiles.cli", "--store", root, "export", pid, target]
    proc = subprocess.run(cli, env=clean_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "removed 1 partial export" in proc.stderr and left in proc.stderr
    assert os.listdir(out) == ["dogs.zip"]
    with zipfile.ZipFile(target) as z:
        assert len([n for n in z.namelist() if n.endswith(".png")]) == 3


# -- upload spools ----------------------------------------------------------------


def _serve(root: str, tmpdir: str) -> tuple[subprocess.Popen, int]:
    code = "import sys; from pool_profiles.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "--store", root, "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(TMPDIR=tmpdir),
    )
    line = proc.stdout.readline()
    if "serving on" not in line:
        proc.kill()
        raise AssertionError(f"server did not start: {line!r} {proc.stderr.read()!r}")
    return proc, int(line.split("serving on ", 1)[1].split()[0].rstrip("/").rsplit(":", 1)[1])


def _start_upload(port: int, path: str, field: str, sent: int) -> socket.socket:
    """A multipart upload that announces 10 MB and stops after `sent` bytes."""
    boundary = "XXB"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="a.zip"\r\n\r\n'
    ).encode()
    request = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        "Content-Length: 10000000\r\n\r\n"
    ).encode()
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(request + head + b"x" * sent)
    return sock


def _spools(tmpdir) -> list[str]:
    return [
        name
        for folder in os.listdir(tmpdir)
        if folder.startswith(uploads.SPOOL_FOLDER)
        for name in os.listdir(os.path.join(tmpdir, folder))
    ]


def test_spool_of_a_server_killed_mid_import_is_removed_at_the_next_start(tmp_path):
    root, tmpdir = str(tmp_path / "store"), tmp_path / "tmp"
    tmpdir.mkdir()
    proc, port = _serve(root, str(tmpdir))
    sock = None
    try:
        sock = _start_upload(port, "/grid_pool/profiles/import", "file", 600_000)
        deadline = time.time() + 30
        while not _spools(tmpdir) and time.time() < deadline:
            time.sleep(0.05)
        assert _spools(tmpdir), "the upload was not spooled"
    finally:
        proc.kill()  # SIGKILL: nothing runs its clean-up
        proc.wait()
        if sock is not None:
            sock.close()
    assert len(_spools(tmpdir)) == 1  # in our own folder, not loose in the temp dir
    assert not [n for n in os.listdir(tmpdir) if not n.startswith(uploads.SPOOL_FOLDER)]
    proc, _ = _serve(root, str(tmpdir))
    try:
        assert _spools(tmpdir) == []
    finally:
        proc.terminate()
        proc.wait()
    assert "removed 1 upload spool" in proc.stderr.read()


# -- a client dropping mid-upload -----------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("path", "field"), [("/grid_pool/profiles/import", "file"), ("/grid_pool/add", "image")]
)
async def test_a_client_dropping_mid_upload_logs_one_line(
    tmp_path, caplog, monkeypatch, path, field
):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    runner = web.AppRunner(make_app(open_store(f"memory://drop-{os.getpid()}-{field}")))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        with caplog.at_level(logging.DEBUG):
            sock = await asyncio.to_thread(_start_upload, port, path, field, 300_000)
            await asyncio.sleep(0.3)
            sock.close()
            for _ in range(100):
                if any("went away" in r.getMessage() for r in caplog.records):
                    break
                await asyncio.sleep(0.05)
    finally:
        await runner.cleanup()
    errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in errors] == [
        f"pool-profiles: POST {path}: the client went away (Connection lost)"
    ]
    assert all(r.exc_info is None for r in caplog.records)
    assert _spools(tmp_path) == []  # the spool went with the request


def test_spools_live_in_a_folder_of_our_own(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    folder = uploads.spool_dir()
    assert os.path.dirname(folder) == str(tmp_path)
    assert os.path.basename(folder).startswith(uploads.SPOOL_FOLDER)
    if os.name != "nt":
        assert os.stat(folder).st_mode & 0o777 == 0o700
    stale = os.path.join(folder, f"upload.pool-profiles-{dead_pid()}-0123abcd.part")
    with open(stale, "wb") as f:
        f.write(json.dumps({}).encode())
    assert uploads.clean_stale_spools() == [os.path.basename(stale)]
