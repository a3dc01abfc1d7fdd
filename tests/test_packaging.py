"""`pip install . && pool-profiles serve` (non-editable) must serve the same browser
components ComfyUI loads from web/lib, and the same UI strings (locales/<lang>/main.json):
the wheel carries a copy, and the installed server finds and serves it (and nothing
outside it)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LIB = REPO / "web" / "lib"
STRINGS = sorted((REPO / "locales").glob("*/main.json"))
SOURCES = [
    "pyproject.toml",
    "setup.py",
    "MANIFEST.in",
    "README.md",
    "pool_profiles",
    "web",
    "locales",
]


def _copy_sources(dest: Path) -> Path:
    src = dest / "checkout"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "_web")
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=ignore)
        else:
            shutil.copy2(path, src / name)
    return src


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    src = _copy_sources(tmp)  # a copy: building leaves build/ and egg-info behind
    out = tmp / "dist"
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    (found,) = out.glob("*.whl")
    return found


def test_the_wheel_carries_the_web_components(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for js in sorted(LIB.glob("*.js")):
            member = f"pool_profiles/_web/lib/{js.name}"
            assert member in names, f"{member} missing from {wheel.name}"
            assert zf.read(member) == js.read_bytes()
        for src in STRINGS:
            member = f"pool_profiles/_web/locales/{src.parent.name}/main.json"
            assert member in names, f"{member} missing from {wheel.name}"
            assert zf.read(member) == src.read_bytes()
        assert {s.parent.name for s in STRINGS} >= {"en", "zh"}
        assert "pool_profiles/server/static/index.html" in names
        assert not any(n.startswith("web/") for n in names)  # no top-level stray folder


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_an_installed_wheel_serves_them(wheel, tmp_path):
    site = tmp_path / "site"
    cmd = [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site)]
    done = subprocess.run([*cmd, str(wheel)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    env = {**os.environ, "PYTHONPATH": str(site)}
    where = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, pool_profiles.server.webdir as w;"
            "print(json.dumps([w.__file__, str(w.web_lib_dir())]))",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    module, lib = json.loads(where.stdout)
    assert Path(module).is_relative_to(site), "the installed copy must be the one imported"
    assert Path(lib) == site / "pool_profiles" / "_web" / "lib"

    serve = [sys.executable, "-m", "pool_profiles.cli", "--store", str(tmp_path / "store")]
    proc = subprocess.Popen(
        [*serve, "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        line = proc.stdout.readline()
        assert "serving on" in line, proc.stderr.read()
        url = line.split("serving on ", 1)[1].split()[0].rstrip("/")
        status, body = _get(url + "/")
        assert status == 200 and b"/static/app.js" in body
        for js in LIB.glob("*.js"):
            status, body = _get(f"{url}/lib/{js.name}")
            assert status == 200 and body == js.read_bytes()
        for lang in ("en", "zh"):
            status, body = _get(f"{url}/locales/{lang}/main.json")
            assert status == 200 and body == (REPO / "locales" / lang / "main.json").read_bytes()
        for probe in ("/lib/../server/app.py", "/lib/%2e%2e/server/app.py", "/lib/..%2fwebdir.py"):
            status, body = _get(url + probe)
            assert status == 404, probe
    finally:
        proc.terminate()
        proc.wait(timeout=10)
