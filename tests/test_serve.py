"""`pool-profiles serve` as a real process: which hosts it answers, and one-line
errors for addresses and ports it cannot use."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from pool_profiles.cli import main


def start_serve(store: Path, *args: str) -> tuple[subprocess.Popen, str]:
    """Start `serve --port 0`; returns the process and the URL it printed."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pool_profiles.cli", "--store", str(store), "serve", "--port", "0"]
        + list(args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "POOL_PROFILES_STORE": ""},
    )
    line = proc.stdout.readline()
    match = re.search(r"serving on (http://\S+/)", line)
    if not match:
        proc.kill()
        raise AssertionError(f"serve did not start: {line!r} {proc.stderr.read()}")
    return proc, match.group(1)


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=20) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_serve_answers_on_the_loopback_address_it_was_told_to_bind(tmp_path):
    proc, url = start_serve(tmp_path / "s", "--host", "127.0.0.2")
    try:
        assert url.startswith("http://127.0.0.2:")
        status, body = get(url + "grid_pool/profiles/list")
        assert status == 200, body
        assert body["profiles"] == []
    finally:
        stop(proc)


@pytest.mark.asyncio
@pytest.mark.asyncio
async def test_other_host_names_are_still_refused(aiohttp_client, tmp_path):
    from pool_profiles.backends import open_store
    from pool_profiles.server.app import make_app

    app = make_app(open_store(str(tmp_path / "s")), loopback_only=True, bind_host="127.0.0.2")
    client = await aiohttp_client(app)
    for host, status in [
        ("127.0.0.2:8189", 200),
        ("localhost:8189", 200),
        ("127.0.0.3:8189", 403),
        ("evil.example", 403),
    ]:
        resp = await client.get("/grid_pool/profiles/list", headers={"Host": host})
        assert resp.status == status, host


@pytest.mark.parametrize("port", ["99999", "-5", "65536", "http"])
def test_a_bad_port_is_one_usage_line(port, capsys, tmp_path):
    with pytest.raises(SystemExit) as exited:
        main(["--store", str(tmp_path / "s"), "serve", "--port", port])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"--port: {port!r} is not a port number (0-65535)" in err.replace('"', "'")


def test_an_unknown_host_is_named(capsys, tmp_path, monkeypatch):
    # beyond loopback needs a token (tests/test_serve_security.py); with one, the
    # name is what fails
    monkeypatch.setenv("POOL_PROFILES_SERVE_TOKEN", "a-token-long-enough-for-serve")
    code = main(["--store", str(tmp_path / "s"), "serve", "--host", "no.such.host.invalid"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(err) == 1, err
    assert err[0].startswith("pool-profiles: error: cannot listen on no.such.host.invalid:8189")
