"""Export speed and memory, as ratios against baselines measured in the same run.

- time: our streaming export (images stored) vs. the same files deflated into a zip
  the way the earlier pack did it (DESIGN: deflating PNGs costs ~6.7x, saves nothing);
- memory: peak Python allocations while exporting vs. the profile's size (bounded
  memory means the ratio falls as the profile grows).

Run: python benchmarks/bench_export.py [--images 24] [--side 768]"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import time
import tracemalloc
import zipfile

from PIL import Image

from pool_profiles import archive, pools, registry
from pool_profiles.backends import open_store


def noise_png(side: int, seed: int) -> bytes:
    img = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=24)
    ap.add_argument("--side", type=int, default=768)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(os.path.join(tmp, "store"))
        prof = registry.create_profile(store, "bench")
        for i in range(args.images):
            pools.add_image(store, prof["id"], noise_png(args.side, i))
        keys = store.walk(prof["id"])
        total = sum(store.size(k) for k in keys)

        def ours() -> int:
            n = 0
            for chunk in archive.iter_export(store, prof["id"]):
                n += len(chunk)
            return n

        def baseline() -> int:
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
                for key in keys:
                    z.write(store.local_path(key), "pool/" + key.split("/", 1)[1])
            return len(out.getvalue())

        def timed(fn) -> tuple[float, int]:
            best = float("inf")
            size = 0
            for _ in range(3):
                t0 = time.perf_counter()
                size = fn()
                best = min(best, time.perf_counter() - t0)
            return best, size

        t_ours, z_ours = timed(ours)
        t_base, z_base = timed(baseline)

        tracemalloc.start()
        ours()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    mb = total / 1e6
    print(f"profile: {args.images} images, {mb:.1f} MB")
    print(
        f"export time  ours {t_ours:.3f}s  deflate baseline {t_base:.3f}s"
        f"  ratio {t_ours / t_base:.2f}"
    )
    print(f"zip size     ours {z_ours / 1e6:.1f} MB  baseline {z_base / 1e6:.1f} MB")
    print(f"peak memory  {peak / 1e6:.1f} MB = {peak / total:.3f} of the profile size")


if __name__ == "__main__":
    main()
