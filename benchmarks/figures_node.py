"""The pool node against ComfyUI's LoadImage path on the same file; S3 warm runs
against local runs; revisiting a slot against decoding it."""

from __future__ import annotations

import os
import statistics
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageOps

from pool_profiles import pools
from pool_profiles.backends import open_store
from pool_profiles.manifest import manifest_key, stamped_manifest
from pool_profiles.nodes import runtime
from pool_profiles.nodes.grid_image_pool import GridImagePool
from pool_profiles.nodes.pool_all import GridImagePoolAll
from pool_profiles.store import Store

from .common import encode, photo_like
from .harness import Suite, interleave, timed

P = "node-pool"


def load_image_path(path: str) -> torch.Tensor:
    """What ComfyUI's LoadImage does with one file: open, EXIF transpose, RGB, float32."""
    img = Image.open(path)
    img = ImageOps.exif_transpose(img)
    image = np.array(img.convert("RGB")).astype(np.float32) / 255.0
    return torch.from_numpy(image)[None,]


def _run(store: Store, index: int = 0) -> Any:
    runtime.set_store_provider(lambda: store)
    return GridImagePool().run(index=index, pool_id=P)


def _fill(store: Store, sides: list[tuple[int, int]]) -> list[str]:
    for i, (w, h) in enumerate(sides):
        pools.add_image(store, P, encode(photo_like(w, h, i), "PNG", compress_level=1))
    return [s["image"] for s in pools.current_manifest(store, P)["slots"]]


def run(suite: Suite, tmp: str, quick: bool, s3: Any) -> None:
    local = open_store(os.path.join(tmp, "node-store"))
    sizes = [(1000, 1000), (2000, 2000), (4000, 4000)] if not quick else [(200, 200)]
    names = _fill(local, sizes)
    runtime.set_cache_dir(os.path.join(tmp, "blob-cache"))
    runtime.set_tensor_cache_bytes(0)  # decode every time: the path itself is measured
    try:
        for i, ((w, h), name) in enumerate(zip(sizes, names, strict=True)):
            path = local.local_path(pools.blob_key(P, name))
            assert path is not None
            suite.compare(
                f"node run, local, {w * h / 1e6:g} MP",
                lambda i=i: _run(local, i),
                lambda path=path: load_image_path(path),
                target=1.05,
                target_text="<= 1.05x LoadImage path",
            )
        if s3 is not None:
            _s3_warm(suite, s3, local)
        _list_node(suite, tmp, quick)
        runtime.set_tensor_cache_bytes(None)  # the default size
        _revisit(suite, local, names)
    finally:
        runtime.set_tensor_cache_bytes(None)
        runtime.set_store_provider(None)


def _is_changed(store: Store, index: int = -1) -> Any:
    runtime.set_store_provider(lambda: store)
    return GridImagePool.IS_CHANGED(index=index, pool_id=P)


def _s3_warm(suite: Suite, s3: Store, local: Store) -> None:
    first = pools.current_manifest(local, P)["slots"][0]["image"]
    pools.add_image(s3, P, pools.read_blob(local, P, first))
    local_only = open_store(os.path.join(os.path.dirname(local.root), "node-store-1"))
    pools.add_image(local_only, P, pools.read_blob(local, P, first))
    _run(s3)  # warm: the blob is in the local blob cache now
    checks: list[bool] = []  # per manifest check: was a body downloaded?
    real = s3.read_if_changed

    def spy(key: str, stamp: str | None) -> Any:
        cur = real(key, stamp)
        checks.append(cur is not None)
        return cur

    def queue(store: Store) -> Any:
        # What ComfyUI does per queue: IS_CHANGED (it checks the manifest), then run.
        return lambda: (_is_changed(store), _run(store))

    s3.read_if_changed = spy  # type: ignore[method-assign]
    try:
        # The whole queue on each store, for the note: the one check per queue is
        # one conditional GET on S3 (moto: a few ms) against a stat on disk.
        q_s3, q_local = interleave(queue(s3), queue(local_only), suite.rounds)
        q_ratio = statistics.median(a / b for a, b in zip(q_s3, q_local, strict=True))
        key, stamp = manifest_key(P), stamped_manifest(s3, P)[0]
        get_ms = statistics.median(timed(lambda: real(key, stamp)) for _ in range(9))
        checks.clear()
        runs: list[int] = []

        def run_s3() -> None:
            before = len(checks)
            _run(s3)
            runs.append(len(checks) - before)

        suite.compare(
            "node run, S3 warm vs local",
            run_s3,
            lambda: _run(local_only),
            # Untimed, as ComfyUI calls it before every run: IS_CHANGED on both stores.
            setup=lambda: (_is_changed(s3), _is_changed(local_only)),
            target=1.1,
            target_text="<= 1.1x local run, no manifest download",
            after=lambda: (
                not any(checks),
                f"manifest downloaded in {sum(checks)} of {len(checks)} checks; "
                f"{sum(runs)} requests in {len(runs)} runs after IS_CHANGED; whole queue "
                f"(IS_CHANGED + run) {q_ratio:.2f}x local, one conditional GET "
                f"{get_ms * 1e3:.1f} ms",
            ),
        )
    finally:
        del s3.read_if_changed


def _revisit(suite: Suite, local: Store, names: list[str]) -> None:
    if len(names) < 2:
        pools.add_image(local, P, encode(photo_like(64, 64, 99)))
    path = local.local_path(pools.blob_key(P, names[0]))
    assert path is not None

    def a_then_b() -> None:
        _run(local, 0)
        _run(local, 1)

    hits: list[bool] = []

    def revisit() -> None:
        tensors = runtime.tensor_cache()
        before = (tensors.hits, tensors.misses)
        _run(local, 0)
        hits.append(tensors.hits > before[0] and tensors.misses == before[1])

    suite.compare(
        "revisit a slot (A->B->A)",
        revisit,
        lambda: load_image_path(path),
        setup=a_then_b,
        target=0.1,
        target_text="<= 0.1x LoadImage path, from the tensor cache",
        after=lambda: (all(hits), f"tensor cache hit in {sum(hits)} of {len(hits)} revisits"),
    )


def _list_node(suite: Suite, tmp: str, quick: bool) -> None:
    """Image Pool (All) on 100 slots of 1 MP (lists and the batch) against decoding the
    same files one by one with ComfyUI's LoadImage path (tensor cache off: every run
    decodes)."""
    count, side = (4, 64) if quick else (100, 1000)
    store = open_store(os.path.join(tmp, "list-store"))
    for i in range(count):
        img = encode(photo_like(side, side, 1000 + i), "PNG", compress_level=1)
        pools.add_image(store, P, img)
    paths = [
        store.local_path(pools.blob_key(P, s["image"]))
        for s in pools.current_manifest(store, P)["slots"]
    ]

    def ours() -> Any:
        runtime.set_store_provider(lambda: store)
        return GridImagePoolAll().run(pool_id=P)

    suite.compare(
        f"list node, {count} slots of {side * side / 1e6:g} MP",
        ours,
        lambda: [load_image_path(p) for p in paths],  # type: ignore[arg-type]
        target=1.05,
        target_text="<= 1.05x LoadImage path, one by one",
        rounds=3 if not quick else None,
    )
