"""`pool-profiles pool ...`: show a pool and add images to it."""

from __future__ import annotations

import argparse
import os

from .. import pools
from ..errors import PoolProfilesError, TooLargeError
from ..ids import check_id
from ..imaging import ImageLimits
from .common import open_store_from_args, print_json
from .profiles_cmd import progress_bar


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pool", help="show a pool or add images to it")
    psub = p.add_subparsers(dest="pool_command", metavar="ACTION", required=True)

    q = psub.add_parser("list", help="list a pool's slots (ID: profile or pool id)")
    q.add_argument("id")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q.set_defaults(func=run_list)

    q = psub.add_parser("add", help="add image files to a pool")
    q.add_argument("id")
    q.add_argument("images", nargs="+", metavar="IMAGE")
    q.add_argument("--label", help="label for the new slots")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q.set_defaults(func=run_add)


def run_list(args: argparse.Namespace) -> int:
    view = pools.pool_view(open_store_from_args(args), check_id(args.id, "pool id"))
    if args.json:
        print_json(view)
        return 0
    print(f"pool {view['pool_id']}: {view['count']} image(s), active {view['active']}")
    for slot in view["slots"]:
        mark = "*" if slot["index"] == view["active"] else " "
        mask = " [mask]" if slot.get("has_mask") else ""
        label = f"  {slot['label']}" if slot.get("label") else ""
        print(f"{mark}{slot['index']:>4}  {slot['image']}{mask}{label}")
    return 0


def _read_image(path: str, limits: ImageLimits) -> bytes:
    size = os.path.getsize(path)
    if size > limits.max_bytes:  # do not read a huge file only to refuse it
        raise TooLargeError(f"{path} is {size} bytes; the limit is {limits.max_bytes}")
    with open(path, "rb") as f:
        return f.read()


def run_add(args: argparse.Namespace) -> int:
    pool_id = check_id(args.id, "pool id")
    limits = ImageLimits.from_env()
    store = open_store_from_args(args)
    added = []
    many = len(args.images) > 1
    with progress_bar(args, "adding", total=len(args.images), enabled=many) as bar:
        for path in args.images:
            try:
                slot = pools.add_image(
                    store, pool_id, _read_image(path, limits), label=args.label, limits=limits
                )
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
