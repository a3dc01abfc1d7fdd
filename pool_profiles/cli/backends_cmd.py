"""`pool-profiles backends`: every discovered backend, its origin and capabilities."""

from __future__ import annotations

import argparse

from ..backends import discover
from .common import print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("backends", help="list storage backends and their capabilities")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
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
        print_json(rows)
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
    return 0
