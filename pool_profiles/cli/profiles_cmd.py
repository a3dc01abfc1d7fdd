"""`pool-profiles profiles ...`: list, create, rename, delete, duplicate profiles.

Also holds what the other command modules of this layer share: turning OS errors
into one-line errors and making progress bars."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from .. import registry
from .common import find_profile, open_store_from_args, print_by_id, print_json, profile_id, when


def progress_bar(
    args: argparse.Namespace,
    desc: str,
    *,
    unit: str = "image",
    total: int | None = None,
    enabled: bool = True,
) -> Any:
    """A tqdm bar on stderr; silent when stderr is not a terminal or with --json."""
    from tqdm import tqdm

    quiet = not enabled or bool(getattr(args, "json", False)) or not sys.stderr.isatty()
    return tqdm(desc=desc, unit=unit, total=total, file=sys.stderr, disable=quiet, leave=False)


def updater(bar: Any) -> Callable[[int, int], None]:
    """A core `progress(done, total)` callback driving `bar`."""

    def update(done: int, total: int) -> None:
        if bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()

    return update


def _when(ts: Any) -> str:
    """A profile's creation time; 0 (the earlier pack wrote none) is not 1970."""
    return when(ts)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("profiles", help="list and manage pool profiles")
    psub = p.add_subparsers(dest="profiles_command", metavar="ACTION", required=True)

    q = psub.add_parser("list", help="list profiles")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q.set_defaults(func=run_list)

    q = psub.add_parser("create", help="create an empty profile")
    q.add_argument("name")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q.set_defaults(func=run_create)

    q = psub.add_parser("rename", help="rename a profile")
    q.add_argument("id", metavar="PROFILE", help="profile id or name")
    q.add_argument("name")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q.set_defaults(func=run_rename)

    q = psub.add_parser(
        "delete",
        help="delete a profile (restorable with `profiles restore` while history keeps it)",
    )
    q.add_argument("id", metavar="PROFILE", help="profile id or name")
    q.set_defaults(func=run_delete)

    q = psub.add_parser("duplicate", help="copy a profile under a new name")
    q.add_argument("id", metavar="PROFILE", help="profile id or name")
    q.add_argument("name")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q.set_defaults(func=run_duplicate)


def _show(args: argparse.Namespace, entry: dict[str, Any], verb: str) -> int:
    if args.json:
        print_json(entry)
    else:
        print(f"{verb} {entry['id']}  {entry['name']}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    entries = registry.list_profiles(open_store_from_args(args, write=False))
    return print_by_id(
        args, entries, "no profiles", lambda e: f"{_when(e.get('created'))}  {e['name']}"
    )


def run_create(args: argparse.Namespace) -> int:
    return _show(args, registry.create_profile(open_store_from_args(args), args.name), "created")


def run_rename(args: argparse.Namespace) -> int:
    store = open_store_from_args(args)
    pid = profile_id(store, args.id)
    return _show(args, registry.rename_profile(store, pid, args.name), "renamed")


def run_delete(args: argparse.Namespace) -> int:
    store = open_store_from_args(args)
    entry = find_profile(store, args.id)
    registry.delete_profile(store, entry["id"])
    print(f"deleted {entry['id']}  {entry['name']}")
    return 0


def run_duplicate(args: argparse.Namespace) -> int:
    store = open_store_from_args(args)
    pid = profile_id(store, args.id)
    return _show(args, registry.duplicate_profile(store, pid, args.name), "created")
