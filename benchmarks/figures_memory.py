"""Peak memory of 8 concurrent max-size uploads against one (each in a fresh process:
peak RSS is per process). "Max size" is the pixel limit in force, set here to the
image's own size through POOL_PROFILES_MAX_PIXELS."""

from __future__ import annotations

import os
import statistics

from .common import encode, photo_like
from .harness import Figure, Suite, child_peak_rss

_UPLOADS = """
import json, os, sys, threading
sys.path.insert(0, sys.argv[3])
from pool_profiles import pools
from pool_profiles.backends import open_store
store = open_store(sys.argv[1])
with open(sys.argv[2], "rb") as f:
    data = f.read()
n = int(sys.argv[4])
def rss(field="VmRSS"):
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith(field))
before = rss()
threads = [threading.Thread(target=pools.add_image, args=(store, f"u{i}", data)) for i in range(n)]
for t in threads:
    t.start()
for t in threads:
    t.join()
peak = rss("VmHWM")
print(json.dumps({"growth": max(0, peak - before)}))
"""


def run(suite: Suite, tmp: str, quick: bool, repo: str) -> None:
    side = 1024 if quick else 4000
    path = os.path.join(tmp, "max-upload.png")
    with open(path, "wb") as f:
        f.write(encode(photo_like(side, side, 7, "RGBA"), "PNG", compress_level=1))
    os.environ["POOL_PROFILES_MAX_PIXELS"] = str(side * side)
    try:
        ones, eights, ratios = [], [], []
        for i in range(suite.rounds):
            one = child_peak_rss(_UPLOADS, os.path.join(tmp, f"up1-{i}"), path, repo, "1")
            eight = child_peak_rss(_UPLOADS, os.path.join(tmp, f"up8-{i}"), path, repo, "8")
            ones.append(one["growth"])
            eights.append(eight["growth"])
            ratios.append(eight["growth"] / max(one["growth"], 1))
    finally:
        del os.environ["POOL_PROFILES_MAX_PIXELS"]
    suite.add(
        Figure(
            f"8 concurrent max-size uploads ({side}x{side} RGBA), peak RSS",
            statistics.median(eights),
            statistics.median(ones),
            statistics.median(ratios),
            2.0,
            "<= 2x one upload",
            unit="B",
            runs=len(ratios),
        )
    )
