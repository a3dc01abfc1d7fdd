"""First grid open of a pool without thumbnails (the earlier pack's pools): the first
screen, then all of them, through the routes; and how long the event loop stalls
meanwhile (a ticker on the server's loop measures its own lateness)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import statistics
import time
from collections.abc import Awaitable
from typing import Any

from PIL import Image

from pool_profiles.backends import open_store

from .common import AppClient, encode, photo_like
from .harness import Figure, Suite, timed

P = "grid-pool"
BROWSER_CONNECTIONS = 6  # what a browser opens to one host


async def max_stall(work: Awaitable[Any], tick: float = 0.005) -> tuple[Any, float]:
    """Run `work` on this loop while a ticker measures the longest the loop was late."""
    worst = 0.0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal worst
        while not done.is_set():
            t0 = time.perf_counter()
            await asyncio.sleep(tick)
            worst = max(worst, time.perf_counter() - t0 - tick)

    task = asyncio.ensure_future(ticker())
    try:
        result = await work
    finally:
        done.set()
        await task
    return result, worst


async def fetch_thumbs(app: AppClient, names: list[str]) -> None:
    """Like the grid: visible slots first, BROWSER_CONNECTIONS requests at a time."""
    queue = list(names)

    async def worker() -> None:
        while queue:
            name = queue.pop(0)
            resp = await app.client.get(f"/grid_pool/thumb?pool_id={P}&name={name}")
            assert resp.status == 200, await resp.text()
            await resp.read()

    await asyncio.gather(*(worker() for _ in range(BROWSER_CONNECTIONS)))


def earlier_pack_pool(root: str, count: int, side: int) -> list[str]:
    """Blobs + an indent=2 manifest, no thumbnails: what the earlier pack left behind."""
    folder = os.path.join(root, P)
    os.makedirs(folder, exist_ok=True)
    base = [encode(photo_like(side, side, i), "PNG", compress_level=1) for i in range(16)]
    names = []
    for i in range(count):
        name = f"img_{i + 1:04d}.png"
        with open(os.path.join(folder, name), "wb") as f:
            f.write(base[i % len(base)])
        names.append(name)
    slots = [{"image": n, "mask": None, "label": ""} for n in names]
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump({"active": 0, "slots": slots}, f, indent=2)
    return names


def run(suite: Suite, tmp: str, quick: bool) -> None:
    count, side, first = (60, 256, 10) if quick else (1000, 512, 50)
    root = os.path.join(tmp, "grid-store")
    names = earlier_pack_pool(root, count, side)
    store = open_store(root)
    thumbs = os.path.join(root, P, "thumbs")
    app = AppClient(store, port=0)  # any free port: another run may hold ours

    def decode_all(subset: list[str]) -> None:
        for name in subset:
            with open(os.path.join(root, P, name), "rb") as f:
                Image.open(io.BytesIO(f.read())).load()

    try:
        firsts: list[float] = []
        stalls: list[float] = []
        for _ in range(suite.rounds):
            shutil.rmtree(thumbs, ignore_errors=True)
            firsts.append(timed(lambda: app.run(fetch_thumbs(app, names[:first]))))
        decode_first = statistics.median(timed(lambda: decode_all(names[:first])) for _ in range(3))
        med = statistics.median(firsts)
        suite.add(
            Figure(
                f"first screen ({first} thumbs of {count}, none made yet)",
                med,
                1.0,
                med / 1.0,
                1.0,
                "<= 1 s",
                note=f"budget 1 s; decoding those originals single-threaded: {decode_first:.2f}s",
                runs=len(firsts),
            )
        )

        def all_thumbs() -> None:
            _, worst = app.run(max_stall(fetch_thumbs(app, names)))
            stalls.append(worst)

        suite.compare(
            f"all {count} thumbs vs single-threaded decode",
            all_thumbs,
            lambda: decode_all(names),
            setup=lambda: shutil.rmtree(thumbs, ignore_errors=True),
            target=0.5,
            target_text="<= 0.5x decoding the originals",
        )
        worst = statistics.median(stalls)
        suite.add(
            Figure(
                "event-loop stall while thumbnailing",
                worst,
                0.05,
                worst / 0.05,
                1.0,
                "<= 50 ms",
                note="budget 50 ms",
                runs=len(stalls),
            )
        )
    finally:
        app.close()
