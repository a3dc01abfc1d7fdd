"""`pool-profiles pool ...`: show and edit one pool's slots, through the same core
operations as the /grid_pool routes (add, remove, active, label, reorder, mask).

A pool is a profile's, named by the profile's id or name; a node's own pool (no
profile) is named explicitly with `--pool ID`, so a typo never makes a hidden pool."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

from .. import pools, tags
from ..errors import PoolProfilesError, TooLargeError, ValidationError
from ..ids import check_id, clean_label
from ..imaging import ImageLimits
from ..store import Store
from .common import open_store_from_args, print_json, profile_id
from .profiles_cmd import progress_bar

TARGET = "[PROFILE | --pool ID]"


def _action(
    psub: argparse._SubParsersAction,
    name: str,
    help_text: str,
    args: str,
    func: Callable[[argparse.Namespace], int],
    command: str = "pool",
) -> argparse.ArgumentParser:
    usage = f"pool-profiles {command} {name} {TARGET} {args}".rstrip()
    q = psub.add_parser(name, help=help_text, usage=usage)
    q.add_argument("--pool", metavar="ID", help="a node's own pool (no profile) by its pool id")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q.set_defaults(func=func)
    return q


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pool", help="show or edit a profile's (or a node's) pool")
    psub = p.add_subparsers(dest="pool_command", metavar="ACTION", required=True)

    q = _action(psub, "list", "list a pool's slots", "", run_list)
    q.add_argument("target", nargs="*", metavar="PROFILE", help="profile id or name")
    q.add_argument(
        "--tag",
        action="append",
        default=[],
        metavar="TAG",
        help="only slots with this tag (repeat: all of them)",
    )
    q.add_argument(
        "--any-tag",
        action="append",
        default=[],
        metavar="TAG",
        help="only slots with at least one of these tags (repeatable)",
    )

    q = _action(psub, "add", "add image files to a pool", "IMAGE...", run_add)
    q.add_argument("target", nargs="+", metavar="[PROFILE] IMAGE")
    q.add_argument("--label", help="label for the new slots")

    q = _action(psub, "remove", "remove a slot (its images go when unused)", "INDEX", run_remove)
    q.add_argument("target", nargs="+", metavar="[PROFILE] INDEX")

    q = _action(psub, "active", "make a slot the active one (index -1)", "INDEX", run_active)
    q.add_argument("target", nargs="+", metavar="[PROFILE] INDEX")

    q = _action(psub, "label", "set a slot's label ('' clears it)", "INDEX TEXT", run_label)
    q.add_argument("target", nargs="+", metavar="[PROFILE] INDEX TEXT")

    q = _action(
        psub, "reorder", "reorder slots: the new order as old indexes", "INDEX...", run_reorder
    )
    q.add_argument("target", nargs="+", metavar="[PROFILE] INDEX")

    m = psub.add_parser("mask", help="set or clear a slot's mask")
    msub = m.add_subparsers(dest="mask_command", metavar="ACTION", required=True)
    q = _action(
        msub, "set", "store a mask image (white = painted)", "INDEX FILE", run_mask_set, "pool mask"
    )
    q.add_argument("target", nargs="+", metavar="[PROFILE] INDEX FILE")
    q = _action(msub, "clear", "remove a slot's mask", "INDEX", run_mask_clear, "pool mask")
    q.add_argument("target", nargs="+", metavar="[PROFILE] INDEX")


# -- addressing --------------------------------------------------------------------


def _target(args: argparse.Namespace, store: Store, fixed: int) -> tuple[str, list[str]]:
    """(pool id, the remaining positional values). Without --pool the first value is
    the profile; `fixed` is how many values the action takes after it (-1: 1 or more)."""
    values = list(args.target)
    if args.pool is not None:
        pool_id = check_id(args.pool, "--pool")
    else:
        if not values:
            raise ValidationError("name a profile (id or name), or a node's pool with --pool ID")
        pool_id = profile_id(store, values.pop(0))
    if fixed >= 0 and len(values) != fixed:
        raise ValidationError(f"expected {fixed} value(s) after the pool, got {len(values)}")
    if fixed < 0 and not values:
        raise ValidationError("expected at least one value after the pool")
    return pool_id, values


def _index(text: str) -> int:
    try:
        return int(text, 10)
    except ValueError:
        raise ValidationError(f"slot index {text!r} is not a whole number") from None


def _read_file(path: str, limits: ImageLimits) -> bytes:
    size = os.path.getsize(path)
    if size > limits.max_bytes:  # do not read a huge file only to refuse it
        raise TooLargeError(f"{path} is {size} bytes; the limit is {limits.max_bytes}")
    with open(path, "rb") as f:
        return f.read()


# -- showing -----------------------------------------------------------------------


def _print_view(args: argparse.Namespace, view: dict[str, Any]) -> int:
    if args.json:
        print_json(view)
        return 0
    shown = f"{view['matching']} of " if "matching" in view else ""
    print(f"pool {view['pool_id']}: {shown}{view['count']} image(s), active {view['active']}")
    for slot in view["slots"]:
        mark = "*" if slot["index"] == view["active"] else " "
        mask = " [mask]" if slot.get("has_mask") else ""
        label = f"  {slot['label']}" if slot.get("label") else ""
        print(f"{mark}{slot['index']:>4}  {slot['image']}{mask}{label}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    wanted = tags.filter_of(args.tag, args.any_tag)  # bad filter: fails before any read
    store = open_store_from_args(args, write=False)
    pool_id, _ = _target(args, store, 0)
    view = pools.pool_view(store, pool_id)
    if not wanted.empty:
        keep = set(wanted.select(view["slots"]))
        view["slots"] = [s for s in view["slots"] if s["index"] in keep]
        view["matching"] = len(view["slots"])  # of view["count"]
    return _print_view(args, view)


# -- changing ----------------------------------------------------------------------


def run_add(args: argparse.Namespace) -> int:
    limits = ImageLimits.from_env()
    store = open_store_from_args(args)
    pool_id, paths = _target(args, store, -1)
    label = clean_label(args.label) or None
    added = []
    with progress_bar(args, "adding", total=len(paths), enabled=len(paths) > 1) as bar:
        for path in paths:
            try:
                data = _read_file(path, limits)
                slot = pools.add_image(store, pool_id, data, label=label, limits=limits)
            except (PoolProfilesError, OSError) as exc:
                message = exc.message if isinstance(exc, PoolProfilesError) else exc.strerror
                done = f" ({len(added)} added before it)" if added else ""
                raise PoolProfilesError(f"{path}: {message}{done}", code="add_failed") from exc
            added.append({"file": path, **slot})
            bar.update(1)
    if args.json:
        print_json(added)
    else:
        for item in added:
            print(f"added {item['file']} as slot {item['index']} ({item['image']})")
    return 0


def _change(args: argparse.Namespace, fixed: int, apply: Callable[..., Any]) -> int:
    """Open the store, find the pool, `apply(store, pool_id, values)`, show the pool."""
    store = open_store_from_args(args)
    pool_id, values = _target(args, store, fixed)
    apply(store, pool_id, values)
    return _print_view(args, pools.pool_view(store, pool_id))


def run_remove(args: argparse.Namespace) -> int:
    return _change(args, 1, lambda s, p, v: pools.remove_slot(s, p, _index(v[0])))


def run_active(args: argparse.Namespace) -> int:
    return _change(args, 1, lambda s, p, v: pools.set_active(s, p, _index(v[0])))


def run_label(args: argparse.Namespace) -> int:
    return _change(args, 2, lambda s, p, v: pools.set_label(s, p, _index(v[0]), v[1]))


def run_reorder(args: argparse.Namespace) -> int:
    return _change(args, -1, lambda s, p, v: pools.reorder(s, p, [_index(i) for i in v]))


def run_mask_set(args: argparse.Namespace) -> int:
    limits = ImageLimits.from_env()

    def apply(store: Store, pool_id: str, values: list[str]) -> None:
        index, path = _index(values[0]), values[1]
        try:
            data = _read_file(path, limits)
        except OSError as exc:
            raise PoolProfilesError(f"{path}: {exc.strerror or exc}", code="os_error") from exc
        pools.set_mask(store, pool_id, index, data, limits=limits)

    return _change(args, 2, apply)


def run_mask_clear(args: argparse.Namespace) -> int:
    return _change(args, 1, lambda s, p, v: pools.set_mask(s, p, _index(v[0]), None))
