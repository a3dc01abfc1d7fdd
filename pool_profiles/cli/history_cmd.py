"""History commands, added to the `pool` and `profiles` commands:

  pool-profiles pool history [PROFILE | --pool ID]          the kept versions, newest first
  pool-profiles pool undo [PROFILE | --pool ID]             take back the last change
  pool-profiles pool restore [PROFILE | --pool ID] VERSION  make the pool that version
  pool-profiles profiles deleted                            deleted, restorable profiles
  pool-profiles profiles restore PROFILE                    restore one (id or name)

VERSION is a version id, or its number in `pool history` (1 = the newest)."""

from __future__ import annotations

import argparse
from typing import Any

from .. import history, pools
from ..errors import NotFoundError, ValidationError
from ..store import Store
from .common import open_store_from_args, print_by_id, print_json, when
from .pool_cmd import _action, _print_view, _target


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def register(sub: argparse._SubParsersAction) -> None:
    """Add the actions to the `pool` and `profiles` commands (registered before)."""
    psub = _subparsers(sub.choices["pool"])
    q = _action(psub, "history", "list a pool's kept versions, newest first", "", run_history)
    q.add_argument("target", nargs="*", metavar="PROFILE", help="profile id or name")
    q.add_argument("--limit", type=int, default=None, help="show at most this many")
    q = _action(psub, "undo", "take back the last change to a pool", "", run_undo)
    q.add_argument("target", nargs="*", metavar="PROFILE", help="profile id or name")
    q = _action(
        psub,
        "restore",
        "make a pool the version kept before a change (see `pool history`)",
        "VERSION",
        run_restore,
    )
    q.add_argument("target", nargs="+", metavar="[PROFILE] VERSION")

    rsub = _subparsers(sub.choices["profiles"])
    q = rsub.add_parser("deleted", help="list deleted profiles that can be restored")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q.set_defaults(func=run_deleted)
    q = rsub.add_parser("restore", help="restore a deleted profile with its pool")
    q.add_argument("id", metavar="PROFILE", help="id or name of the deleted profile")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q.set_defaults(func=run_restore_profile)


def _when(ts: float) -> str:
    return when(ts, "%Y-%m-%d %H:%M:%S")


def run_history(args: argparse.Namespace) -> int:
    store = open_store_from_args(args, write=False)
    pool_id, _ = _target(args, store, 0)
    if args.limit is not None and args.limit < 1:
        raise ValidationError("--limit must be 1 or more")
    out = history.pool_history(store, pool_id, limit=args.limit)
    if args.json:
        print_json(out)
        return 0
    if not out["versions"]:
        print(f"pool {pool_id}: no history yet")
        return 0
    print(f"pool {pool_id}: each line is the version kept before that change")
    for n, v in enumerate(out["versions"], 1):
        count = f"{v['count']} image(s)" if v["count"] is not None else ""
        print(f"{n:>3}  {_when(v['time'])}  {v['description']:<40}  {count:<12}  {v['version']}")
    return 0


def _version(store: Store, pool_id: str, ref: str) -> str:
    """A version id, or a number from `pool history` (1 = newest)."""
    if ref.isdigit() and len(ref) < 6:
        versions = history.pool_history(store, pool_id)["versions"]
        n = int(ref)
        if not 1 <= n <= len(versions):
            raise NotFoundError(
                f"pool {pool_id} has {len(versions)} kept version(s); there is no number {n}",
                code="unknown_version",
            )
        return str(versions[n - 1]["version"])
    return history.check_version(ref)


def _done(args: argparse.Namespace, store: Store, pool_id: str, what: str) -> int:
    if not args.json:
        print(what)
    return _print_view(args, pools.pool_view(store, pool_id))


def run_undo(args: argparse.Namespace) -> int:
    store = open_store_from_args(args)
    pool_id, _ = _target(args, store, 0)
    out = history.undo(store, pool_id)
    newest = history.history_of(store, history.pool_doc(pool_id), limit=1)
    what = newest[0].description if out["version"] and newest else "nothing to write"
    return _done(args, store, pool_id, what)


def run_restore(args: argparse.Namespace) -> int:
    store = open_store_from_args(args)
    pool_id, values = _target(args, store, 1)
    version = _version(store, pool_id, values[0])
    history.restore(store, pool_id, version)
    return _done(args, store, pool_id, f"restored version {version}")


def _deleted_entry(store: Store, ref: str) -> dict[str, Any]:
    found = history.deleted_profiles(store)
    entry = next((d for d in found if d["id"] == ref), None)
    entry = entry or next((d for d in found if d["name"].casefold() == ref.casefold()), None)
    if entry is None:
        raise NotFoundError(
            f"no deleted profile {ref!r} can be restored (see `pool-profiles profiles deleted`)",
            code="not_restorable",
        )
    return entry


def run_deleted(args: argparse.Namespace) -> int:
    found = history.deleted_profiles(open_store_from_args(args, write=False))
    return print_by_id(
        args,
        found,
        "no deleted profiles to restore",
        lambda d: f"deleted {_when(d['deleted'])}  {d['name']}",
    )


def run_restore_profile(args: argparse.Namespace) -> int:
    store = open_store_from_args(args)
    entry = history.restore_profile(store, _deleted_entry(store, args.id)["id"])
    if args.json:
        print_json(entry)
    else:
        print(f"restored {entry['id']}  {entry['name']}")
    return 0
