"""The benchmark suite: every figure of issue 10 as a ratio to a baseline measured in
the same run (interleaved, median of >= 5), printed as a table and, with --json FILE,
written as JSON. S3 figures run on a moto server on 127.0.0.1.

    python -m benchmarks.run [--quick] [--json FILE] [--only manifest,node,...]"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import tempfile
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from benchmarks import (  # noqa: E402
    figures_archive,
    figures_dataset,
    figures_grid,
    figures_manifest,
    figures_memory,
    figures_node,
)
from benchmarks.harness import Suite  # noqa: E402

GROUPS = ("manifest", "node", "archive", "grid", "memory", "dataset")


def _s3_store():  # noqa: ANN202 - the Store and the server that must be stopped
    from pool_profiles.backends import open_store
    from pool_profiles.testing.moto_server import LockedMotoServer, create_bucket, s3_options

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = LockedMotoServer()  # any free port: two runs at once must not collide
    server.start()
    create_bucket(server.endpoint, "bench")
    store = open_store(f"s3://bench/{uuid.uuid4().hex[:8]}", s3_options(server.endpoint))
    return store, server


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny data, 3 rounds: a smoke test")
    ap.add_argument("--json", metavar="FILE", help="also write the table as JSON")
    ap.add_argument("--only", default=",".join(GROUPS), help=f"groups: {','.join(GROUPS)}")
    ap.add_argument("--rounds", type=int, default=None, help="pairs per figure (default 5)")
    args = ap.parse_args(argv)
    groups = [g.strip() for g in args.only.split(",") if g.strip()]
    unknown = set(groups) - set(GROUPS)
    if unknown:
        ap.error(f"unknown groups: {', '.join(sorted(unknown))}")
    suite = Suite(rounds=args.rounds or (3 if args.quick else 5))
    started = time.perf_counter()
    s3 = server = None
    if {"node", "archive"} & set(groups):
        s3, server = _s3_store()
    try:
        with tempfile.TemporaryDirectory(prefix="pool-bench-") as tmp:
            if "manifest" in groups:
                figures_manifest.run(suite, tmp, 200 if args.quick else 10_000)
            if "node" in groups:
                figures_node.run(suite, tmp, args.quick, s3)
            if "archive" in groups:
                figures_archive.run(suite, tmp, args.quick, s3, REPO)
            if "grid" in groups:
                figures_grid.run(suite, tmp, args.quick)
            if "memory" in groups:
                figures_memory.run(suite, tmp, args.quick, REPO)
            if "dataset" in groups:
                figures_dataset.run(suite, tmp, args.quick)
    finally:
        if server is not None:
            server.stop()
    elapsed = time.perf_counter() - started
    print()
    print(suite.table())
    missed = [f.name for f in suite.figures if not f.met]
    print(
        f"\n{len(suite.figures) - len(missed)}/{len(suite.figures)} targets met in {elapsed:.0f}s"
    )
    if args.json:
        suite.write_json(
            args.json,
            {
                "quick": args.quick,
                "rounds": suite.rounds,
                "seconds": round(elapsed, 1),
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
            },
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
