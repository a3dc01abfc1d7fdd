"""Test data and a local HTTP client for the benchmark figures."""

from __future__ import annotations

import asyncio
import io
import json
import os
from typing import Any

import numpy as np
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image

from pool_profiles.server.app import make_app
from pool_profiles.store import Store

BENCH_PORT = 18540  # kept for callers that want a fixed port; the default is any free one


def photo_like(width: int, height: int, seed: int, mode: str = "RGB") -> Image.Image:
    """Smooth colour fields plus a little grain: compresses like a photo, not like noise."""
    rng = np.random.default_rng(seed)
    bands = len(mode)
    small = rng.integers(0, 256, (max(2, height // 64), max(2, width // 64), bands), np.uint8)
    img = Image.fromarray(small if bands > 1 else small[..., 0], mode)
    img = img.resize((width, height), Image.Resampling.BILINEAR)
    grain = rng.integers(-6, 7, (height, width, bands), np.int16)
    arr = np.asarray(img, np.int16).reshape(height, width, bands) + grain
    arr = np.clip(arr, 0, 255).astype(np.uint8)
    return Image.fromarray(arr if bands > 1 else arr[..., 0], mode)


def noise_png(side: int, seed: int) -> bytes:
    """Incompressible pixels: a PNG about side*side*3 bytes, fast to make."""
    rng = np.random.default_rng(seed)
    img = Image.fromarray(rng.integers(0, 256, (side, side, 3), np.uint8), "RGB")
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=0)
    return buf.getvalue()


def encode(img: Image.Image, fmt: str = "PNG", **kw: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def tiny_png(i: int) -> bytes:
    return encode(Image.new("RGB", (8, 8), (i % 256, (i // 256) % 256, 0)))


def big_manifest(slots: int) -> dict[str, Any]:
    return {
        "active": 0,
        "next_seq": slots + 1,
        "slots": [
            {
                "image": f"img_{i:04d}_{i:08x}.png",
                "mask": f"img_{i:04d}_{i:08x}.mask-{i:08x}.png" if i % 3 == 0 else None,
                "label": f"slot {i} label text",
                "added": 1_700_000_000.0 + i,
            }
            for i in range(slots)
        ],
    }


def json_floor(path: str) -> None:
    """The physical floor of a manifest change: one parse, one compact dump, one write."""
    with open(path, "rb") as f:
        doc = json.loads(f.read())
    data = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    with open(path + ".floor", "wb") as f:
        f.write(data)


def dir_size(path: str) -> int:
    return sum(os.path.getsize(os.path.join(d, n)) for d, _, names in os.walk(path) for n in names)


class AppClient:
    """Our aiohttp app on 127.0.0.1, driven from synchronous benchmark code."""

    def __init__(self, store: Store, port: int | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        self.server = TestServer(make_app(store), host="127.0.0.1", port=port)
        self.client = TestClient(self.server, loop=self.loop)
        self.loop.run_until_complete(self.client.start_server())

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def get_json(self, path: str) -> Any:
        async def go() -> Any:
            resp = await self.client.get(path)
            assert resp.status == 200, await resp.text()
            return await resp.json()

        return self.run(go())

    def post_json(self, path: str, body: Any) -> Any:
        async def go() -> Any:
            resp = await self.client.post(path, json=body)
            assert resp.status == 200, await resp.text()
            return await resp.json()

        return self.run(go())

    def get_body(self, path: str) -> bytes:
        """GET and read the whole answer (unparsed: the route's cost, not the client's)."""

        async def go() -> bytes:
            resp = await self.client.get(path)
            body = await resp.read()
            assert resp.status == 200, body[:500]
            return body

        return self.run(go())

    def post_body(self, path: str, doc: Any) -> bytes:
        """POST JSON and read the whole answer, unparsed."""

        async def go() -> bytes:
            resp = await self.client.post(path, json=doc)
            body = await resp.read()
            assert resp.status == 200, body[:500]
            return body

        return self.run(go())

    def close(self) -> None:
        self.run(self.client.close())
        self.loop.close()
