"""Opt-in: the pack inside a real ComfyUI. Skipped unless COMFYUI_DIR names a ComfyUI
checkout and COMFYUI_PYTHON a python that can run it (with this pack's dependencies;
s3fs for the S3 run). ComfyUI runs on 127.0.0.1 with a temporary base directory whose
custom_nodes/ links to this repo, so the checkout itself is never written to.

Per store (local disk; S3 on a moto server): create a profile and add an image (and a
mask) through the /grid_pool routes, queue PoolProfile -> GridImagePool -> SaveImage
(+ MaskToImage -> SaveImage) via POST /prompt, wait on /history and compare the saved
PNGs with the source. The in-node UI is driven in a browser by
tests/test_comfyui_live_ui.py."""

from __future__ import annotations

import uuid

import pytest

np = pytest.importorskip("numpy")
from comfyui_live_support import (  # noqa: E402
    cached_nodes,
    live_only,
    png,
    queue_and_wait,
    s3_env,
    saved_image,
    start_comfyui,
    start_moto,
)
from PIL import Image  # noqa: E402

pytestmark = live_only


@pytest.fixture(scope="module")
def moto_live():
    server, endpoint, options = start_moto()
    yield endpoint, options
    server.stop()


@pytest.fixture(params=["local", "s3"])
def comfy(request, tmp_path):
    env: dict[str, str] = {}
    if request.param == "s3":
        _endpoint, options = request.getfixturevalue("moto_live")
        env = s3_env(options, f"live-{uuid.uuid4().hex[:8]}")
    gen = start_comfyui(tmp_path, env)
    client, base, log_path = next(gen)
    yield request.param, client, base, log_path, env
    next(gen, None)


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
