"""`pool-profiles backends`: every discovered backend, its origin and capabilities."""

from __future__ import annotations

import argparse
import os

from ..backends import discover
from ..config import ENV_STORE
from .common import STORE_OPTIONS, open_store_from_args, print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("backends", help="list storage backends and their capabilities")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def _configured(args: argparse.Namespace) -> dict | None:
    """The store the command line (or $POOL_PROFILES_STORE) names, opened and probed
    as a writer would: how it runs (several writers, or single writer and why)."""
    if (
        not any(getattr(args, name, None) for name in STORE_OPTIONS)
        and not os.environ.get(ENV_STORE, "").strip()
    ):
        return None
    store = open_store_from_args(args)
    return {
        "url": store.url,
        "backend": store.backend,
        "mode": store.writer_mode(),
        "single_writer": store.capabilities.single_writer,
        "single_writer_reason": store.cas_problem,
        "capabilities": store.capabilities.as_dict(),
    }


def run(args: argparse.Namespace) -> int:
    store = _configured(args)
    rows = []
    for scheme, item in sorted(discover().items()):
        caps = item.backend.capabilities.as_dict() if item.backend else {}
        rows.append(
            {
                "scheme": scheme,
                "origin": item.origin,
                "description": item.backend.description if item.backend else "",
                "available": item.missing is None,
                "missing": item.missing,
                "capabilities": caps,
            }
        )
    if args.json:
        print_json({"backends": rows, "store": store} if store else rows)
        return 0
    for row in rows:
        status = "ok" if row["available"] else f"unavailable: {row['missing']}"
        print(f"{row['scheme']}://  [{status}]")
        print(f"    {row['description']}")
        print(f"    from {row['origin']}")
        caps = row["capabilities"]
        if caps:
            print("    " + ", ".join(f"{k}={v}" for k, v in caps.items()))
    print("other fsspec protocols: generic backend, single-writer (no conditional writes)")
    if store:
        print(f"store {store['url']} ({store['backend']}): {store['mode']}")
    return 0
