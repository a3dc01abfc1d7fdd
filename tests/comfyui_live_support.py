"""What the live ComfyUI tests share: a stdlib HTTP client, a ComfyUI process on
127.0.0.1 with a temporary base directory whose custom_nodes/ links to this repo, a
moto server for the S3 runs, and prompt helpers (queue, wait on /history, read a saved
image). Nothing here installs ComfyUI: COMFYUI_DIR and COMFYUI_PYTHON name one."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
COMFYUI_DIR = os.environ.get("COMFYUI_DIR", "")
COMFYUI_PYTHON = os.environ.get("COMFYUI_PYTHON", "")
# Optional: a second frontend (an unzipped comfyui-frontend-package's static/ folder).
FRONTEND_ROOT = os.environ.get("COMFYUI_FRONTEND_ROOT", "")
START_TIMEOUT = float(os.environ.get("COMFYUI_START_TIMEOUT", "240"))
RUN_TIMEOUT = 180.0
BUCKET = "pool-profiles-live"

live_only = pytest.mark.skipif(
    not (COMFYUI_DIR and os.path.isfile(os.path.join(COMFYUI_DIR, "main.py")) and COMFYUI_PYTHON),
    reason="set COMFYUI_DIR (a ComfyUI checkout) and COMFYUI_PYTHON to run the live test",
)


# -- HTTP helpers (stdlib only: the test venv needs nothing extra) ---------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    def __init__(self, base: str) -> None:
        self.base = base

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, bytes]:
        req = urllib.request.Request(
            self.base + path, data=body, method=method, headers=headers or {}
        )
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def json(self, method: str, path: str, payload: Any = None) -> Any:
        body = None if payload is None else json.dumps(payload).encode()
        status, data = self.request(
            method, path, body, {"Content-Type": "application/json"} if body else {}
        )
        assert status == 200, f"{method} {path} -> {status}: {data[:500]!r}"
        return json.loads(data)

    def multipart(self, path: str, fields: dict[str, str], files: dict[str, bytes]) -> Any:
        boundary = uuid.uuid4().hex
        parts: list[bytes] = []
        for name, value in fields.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{value}\r\n".encode()
            )
        for name, data in files.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{name}.png"\r\nContent-Type: image/png\r\n\r\n'.encode()
                + data
                + b"\r\n"
            )
        parts.append(f"--{boundary}--\r\n".encode())
        status, data = self.request(
            "POST",
            path,
            b"".join(parts),
            {"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert status == 200, f"POST {path} -> {status}: {data[:500]!r}"
        return json.loads(data)


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


# -- ComfyUI process -------------------------------------------------------------------


def start_comfyui(
    tmp: Path, env_extra: dict[str, str], extra_args: tuple[str, ...] = ()
) -> Iterator[tuple[Client, Path, Path]]:
    base = tmp / "comfy-base"
    (base / "custom_nodes").mkdir(parents=True)
    try:
        (base / "custom_nodes" / "comfyui-pool-profiles").symlink_to(REPO, target_is_directory=True)
    except OSError as exc:
        pytest.skip(f"cannot link the pack into custom_nodes: {exc}")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POOL_PROFILES_", "PYTEST_"))}
    env.update(env_extra)
    env["POOL_PROFILES_CACHE_DIR"] = str(tmp / "blob-cache")
    log_path = tmp / "comfyui.log"
    cmd = [
        COMFYUI_PYTHON,
        "main.py",
        "--cpu",
        "--listen",
        "127.0.0.1",
        "--port",
        str(port),
        "--base-directory",
        str(base),
        "--database-url",
        "sqlite:///:memory:",
        *extra_args,
    ]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=COMFYUI_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    client = Client(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"ComfyUI exited ({proc.returncode}):\n{tail(log_path)}")
            try:
                if client.request("GET", "/object_info/GridImagePool")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"ComfyUI did not start in {START_TIMEOUT:.0f}s:\n{tail(log_path)}")
            time.sleep(1.0)
        yield client, base, log_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def tail(path: Path, n: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


# -- prompts ---------------------------------------------------------------------------


def queue_and_wait(client: Client, graph: dict[str, Any], log_path: Path) -> dict[str, Any]:
    queued = client.json("POST", "/prompt", {"prompt": graph, "client_id": uuid.uuid4().hex})
    prompt_id = queued["prompt_id"]
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        history = client.json("GET", f"/history/{prompt_id}")
        entry = history.get(prompt_id)
        if entry and entry.get("status", {}).get("completed") is not None:
            status = entry["status"]
            assert status.get("status_str") == "success", (
                f"prompt failed: {json.dumps(status)[:2000]}\n{tail(log_path)}"
            )
            return entry
        time.sleep(0.5)
    pytest.fail(f"prompt {prompt_id} did not finish in {RUN_TIMEOUT:.0f}s:\n{tail(log_path)}")


def cached_nodes(entry: dict[str, Any]) -> set[str]:
    for name, data in entry.get("status", {}).get("messages", []):
        if name == "execution_cached":
            return set(data.get("nodes", []))
    return set()


def saved_image(client: Client, entry: dict[str, Any], node: str) -> np.ndarray:
    ref = entry["outputs"][node]["images"][0]
    query = urllib.parse.urlencode(
        {"filename": ref["filename"], "subfolder": ref["subfolder"], "type": ref["type"]}
    )
    status, data = client.request("GET", f"/view?{query}")
    assert status == 200, f"/view -> {status}"
    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("RGB"), dtype=np.int16)


def start_moto() -> tuple[Any, str, dict[str, Any]]:
    """A moto server with the live bucket; the caller stops it."""
    pytest.importorskip("s3fs")
    from pool_profiles.testing.moto_server import LockedMotoServer, create_bucket, s3_options

    probe = subprocess.run([COMFYUI_PYTHON, "-c", "import s3fs"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("ComfyUI's python has no s3fs (pip install 'comfyui-pool-profiles[s3]')")
    server = LockedMotoServer()
    server.start()
    create_bucket(server.endpoint, BUCKET)
    return server, server.endpoint, s3_options(server.endpoint)


def s3_env(options: dict[str, Any], prefix: str) -> dict[str, str]:
    return {
        "POOL_PROFILES_STORE": f"s3://{BUCKET}/{prefix}",
        "POOL_PROFILES_STORE_OPTIONS": json.dumps(options),
    }
