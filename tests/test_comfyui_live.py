"""Opt-in: the pack inside a real ComfyUI. Skipped unless COMFYUI_DIR names a ComfyUI
checkout and COMFYUI_PYTHON a python that can run it (with this pack's dependencies;
s3fs for the S3 run). ComfyUI runs on 127.0.0.1 with a temporary base directory whose
custom_nodes/ links to this repo, so the checkout itself is never written to.

Per store (local disk; S3 on a moto server): create a profile and add an image (and a
mask) through the /grid_pool routes, queue PoolProfile -> GridImagePool -> SaveImage
(+ MaskToImage -> SaveImage) via POST /prompt, wait on /history and compare the saved
PNGs with the source."""

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

import pytest

np = pytest.importorskip("numpy")
from PIL import Image  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
COMFYUI_DIR = os.environ.get("COMFYUI_DIR", "")
COMFYUI_PYTHON = os.environ.get("COMFYUI_PYTHON", "")
START_TIMEOUT = float(os.environ.get("COMFYUI_START_TIMEOUT", "240"))
RUN_TIMEOUT = 180.0

pytestmark = pytest.mark.skipif(
    not (COMFYUI_DIR and os.path.isfile(os.path.join(COMFYUI_DIR, "main.py")) and COMFYUI_PYTHON),
    reason="set COMFYUI_DIR (a ComfyUI checkout) and COMFYUI_PYTHON to run the live test",
)

BUCKET = "pool-profiles-live"


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


def start_comfyui(tmp: Path, env_extra: dict[str, str]) -> Iterator[tuple[Client, Path, Path]]:
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


@pytest.fixture(scope="module")
def moto_live():
    pytest.importorskip("s3fs")
    from pool_profiles.testing.moto_server import LockedMotoServer, create_bucket, s3_options

    probe = subprocess.run([COMFYUI_PYTHON, "-c", "import s3fs"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("ComfyUI's python has no s3fs (pip install 'comfyui-pool-profiles[s3]')")
    server = LockedMotoServer()
    server.start()
    create_bucket(server.endpoint, BUCKET)
    yield server.endpoint, s3_options(server.endpoint)
    server.stop()


@pytest.fixture(params=["local", "s3"])
def comfy(request, tmp_path):
    env: dict[str, str] = {}
    if request.param == "s3":
        endpoint, options = request.getfixturevalue("moto_live")
        env["POOL_PROFILES_STORE"] = f"s3://{BUCKET}/live-{uuid.uuid4().hex[:8]}"
        env["POOL_PROFILES_STORE_OPTIONS"] = json.dumps(options)
    gen = start_comfyui(tmp_path, env)
    client, base, log_path = next(gen)
    yield request.param, client, base, log_path, env
    next(gen, None)


# -- the test --------------------------------------------------------------------------


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


def test_pool_profile_graph_in_comfyui(comfy):
    kind, client, base, log_path, env = comfy
    info = client.json("GET", "/grid_pool/store_info")
    assert info["backend"] == kind
    nodes = client.json("GET", "/object_info")
    assert nodes["GridImagePool"]["display_name"] == "Image Pool (Grid)"
    assert nodes["PoolProfile"]["output"] == ["POOL_PROFILE"]
    assert any(p.endswith("/pool_profiles.js") for p in client.json("GET", "/extensions"))

    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
    name = f"Live {uuid.uuid4().hex[:6]}"
    entry = client.json("POST", "/grid_pool/profiles/create", {"name": name})
    pid = entry["id"]
    view = client.multipart(
        "/grid_pool/add", {"pool_id": pid, "label": "live"}, {"image": png(Image.fromarray(pixels))}
    )
    assert view["count"] == 1
    layer = np.full((24, 32, 4), 255, dtype=np.uint8)
    layer[:12, :, 3] = 0  # MaskEditor style: the top half painted (transparent)
    client.multipart(
        "/grid_pool/set_mask",
        {"pool_id": pid, "index": "0"},
        {"mask": png(Image.fromarray(layer, "RGBA"))},
    )

    graph = {
        # API format: the profile picked by NAME (profile_id empty).
        "1": {"class_type": "PoolProfile", "inputs": {"profile": name, "profile_id": ""}},
        "2": {
            "class_type": "GridImagePool",
            "inputs": {"index": -1, "pool_id": "own-pool-unused", "profile": ["1", 0]},
        },
        "3": {
            "class_type": "SaveImage",
            "inputs": {"images": ["2", 0], "filename_prefix": f"pool_live_{kind}"},
        },
        "4": {"class_type": "MaskToImage", "inputs": {"mask": ["2", 1]}},
        "5": {
            "class_type": "SaveImage",
            "inputs": {"images": ["4", 0], "filename_prefix": f"pool_live_mask_{kind}"},
        },
    }
    result = queue_and_wait(client, graph, log_path)
    image = saved_image(client, result, "3")
    assert image.shape == pixels.shape
    # SaveImage truncates 255*x to uint8: allow one step.
    assert int(np.abs(image - pixels.astype(np.int16)).max()) <= 1
    mask = saved_image(client, result, "5")
    assert mask.shape == pixels.shape
    assert mask[:12].min() >= 254 and mask[12:].max() == 0  # white = painted

    # A changed label re-runs the pool node through the profile's IS_CHANGED.
    client.json("POST", "/grid_pool/label", {"pool_id": pid, "index": 0, "label": "changed"})
    graph["3"]["inputs"]["filename_prefix"] = f"pool_live_again_{kind}"
    again = queue_and_wait(client, graph, log_path)
    assert int(np.abs(saved_image(client, again, "3") - pixels.astype(np.int16)).max()) <= 1
    assert "2" not in cached_nodes(again)
    # Nothing changed: ComfyUI serves the pool node from its cache.
    graph["3"]["inputs"]["filename_prefix"] = f"pool_live_third_{kind}"
    assert "2" in cached_nodes(queue_and_wait(client, graph, log_path))

    log_text = log_path.read_text(errors="replace")
    assert "pool-profiles: using the" in log_text
    if kind == "local":
        assert (base / "input" / "grid_pool" / pid / "manifest.json").is_file()
    else:
        # The image came from S3 once; the second run read it from the local cache.
        blobs = [p for p in (base.parent / "blob-cache").rglob("*") if p.is_file()]
        assert len(blobs) == 2  # image + mask
        assert not (base / "input" / "grid_pool").exists()
    assert "Traceback" not in log_text.split("Starting server", 1)[-1]
