"""A writer process as a ComfyUI instance or `pool-profiles serve` would be: it opens
the store the configured way (probe included), then creates profiles and adds
images, and reports how many writes were acknowledged. For lost-update tests."""

from __future__ import annotations

import io
import multiprocessing
from typing import Any

SHARED_POOL = "shared_pool"


def png(seed: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 6), (seed % 256, (seed * 7) % 256, 99)).save(buf, "PNG")
    return buf.getvalue()


def write(url: str, options: dict[str, Any], tag: str, n: int, results: Any) -> None:
    """Open, then n profile creates and n image adds; put (tag, acknowledged names,
    start-up error or None) on `results`."""
    from .. import config, pools, registry
    from ..errors import PoolProfilesError

    acknowledged: list[str] = []
    try:
        store = config.open_configured(config.StoreConfig(url, options, "test"))
    except PoolProfilesError as exc:
        results.put((tag, acknowledged, exc.message))
        return
    for i in range(n):
        registry.create_profile(store, f"{tag}-{i}")
        acknowledged.append(f"profile {tag}-{i}")
        pools.add_image(store, SHARED_POOL, png(i), label=f"{tag}-{i}")
        acknowledged.append(f"slot {tag}-{i}")
    results.put((tag, acknowledged, None))


def run_writers(
    url: str, options: dict[str, Any], tags: list[str], n: int
) -> list[tuple[str, list[str], str | None]]:
    """Run one writer process per tag at once (spawned: nothing inherited)."""
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    procs = [ctx.Process(target=write, args=(url, options, tag, n, results)) for tag in tags]
    for proc in procs:
        proc.start()
    out = [results.get(timeout=300) for _ in procs]
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0, f"writer exited with {proc.exitcode}"
    return sorted(out)


def kept(store: Any) -> list[str]:
    """What the store holds, in the writers' words."""
    from .. import pools, registry

    names = [f"profile {p['name']}" for p in registry.list_profiles(store)]
    slots = [f"slot {s['label']}" for s in pools.read_manifest(store, SHARED_POOL)["slots"]]
    return sorted(names + slots)
