"""IS_CHANGED cost: `pools.change_token` (one manifest read) vs. the earlier pack's
approach (a stat per blob in the pool), both on the same local pool in the same run.

Run: python benchmarks/bench_is_changed.py [--images 200]"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import tempfile
import time

from PIL import Image

from pool_profiles import pools
from pool_profiles.backends import open_store


def tiny_png(i: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (i % 256, 0, 0)).save(buf, "PNG")
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(os.path.join(tmp, "store"))
        for i in range(args.images):
            pools.add_image(store, "bench", tiny_png(i))
        pool_dir = store.local_path("bench")

        def ours() -> str:
            return pools.change_token(store, "bench", -1)

        def baseline() -> str:
            mtimes = sorted((e.name, e.stat().st_mtime_ns) for e in os.scandir(pool_dir))
            return hashlib.sha256(repr(mtimes).encode()).hexdigest()

        def per_call(fn) -> float:
            t0 = time.perf_counter()
            for _ in range(args.rounds):
                fn()
            return (time.perf_counter() - t0) / args.rounds

        t_ours, t_base = per_call(ours), per_call(baseline)
    print(f"pool of {args.images} images")
    print(
        f"IS_CHANGED ours {t_ours * 1e3:.3f} ms  stat-per-file {t_base * 1e3:.3f} ms"
        f"  ratio {t_ours / t_base:.2f}"
    )


if __name__ == "__main__":
    main()
