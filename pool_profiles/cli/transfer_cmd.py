"""`pool-profiles export | import | copy | check`: move profiles in and out of a store
and keep a store healthy."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys

from .. import archive, check, pools, transfer
from ..config import StoreConfig, _options, open_configured
from ..errors import PoolProfilesError
from ..ids import check_id
from ..store import Store
from .common import open_store_from_args, print_json, profile_id
from .profiles_cmd import progress_bar, updater


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="export a profile as a zip file or a dataset",
        usage="pool-profiles export [PROFILE | --pool ID] OUT [--format {zip,dataset}]",
    )
    p.add_argument(
        "target",
        nargs="+",
        metavar="[PROFILE] OUT",
        help="profile id or name, then the zip file to write ('-': stdout); with "
        "--format dataset a new folder, or a zip when it ends in .zip",
    )
    p.add_argument("--pool", metavar="ID", help="a node's own pool (no profile), as a dataset")
    p.add_argument(
        "--format",
        choices=archive.EXPORT_FORMATS,
        default="zip",
        help="zip: the profile zip (default); dataset: NNNN.<ext> + NNNN.txt + "
        "masks/NNNN.png, as LoRA trainers read",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run_export)

    p = sub.add_parser("import", help="import a profile zip, or a dataset folder or zip")
    p.add_argument(
        "file", metavar="DIR_OR_ZIP", help="profile zip, dataset zip or folder ('-': stdin)"
    )
    p.add_argument(
        "--name", help="profile name (default: the zip's stored name, or the dataset's folder)"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run_import)

    p = sub.add_parser("copy", help="copy profiles with their images to another store")
    p.add_argument("ids", nargs="*", metavar="PROFILE", help="profile ids or names (default: all)")
    p.add_argument("--to", required=True, metavar="URL", help="destination store URL or path")
    p.add_argument("--to-options", metavar="JSON", help="JSON object of backend options for --to")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run_copy)

    p = sub.add_parser("check", help="check the store for damage and leftovers")
    p.add_argument("--repair", action="store_true", help="fix what can be fixed safely")
    p.add_argument(
        "--grace",
        type=float,
        default=check.DEFAULT_GRACE_SECONDS,
        metavar="SECONDS",
        help="only delete orphans/temp files older than this (default: %(default)g)",
    )
    p.add_argument(
        "--delete-orphans",
        action="store_true",
        help="with --repair: also delete images no slot uses and older than their manifest "
        "(by default they are kept; newer ones are put back as slots)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run_check)


def _export_target(args: argparse.Namespace, store: Store) -> tuple[str, str]:
    """(pool id, OUT): a profile named first, or a node's pool by --pool."""
    want = 1 if args.pool else 2
    if len(args.target) != want:
        usage = "--pool ID OUT" if args.pool else "PROFILE OUT"
        raise PoolProfilesError(f"export takes {usage}", code="usage")
    if not args.pool:
        return profile_id(store, args.target[0]), args.target[1]
    if args.format != "dataset":
        raise PoolProfilesError(
            "a node's pool exports as a dataset: add --format dataset", code="usage"
        )
    pool_id = check_id(args.pool, "pool id")
    if not pools.read_manifest(store, pool_id)["slots"]:
        raise PoolProfilesError(
            f"no pool with id {pool_id!r} in this store (or it is empty)", code="not_found"
        )
    return pool_id, args.target[0]


def run_export(args: argparse.Namespace) -> int:
    store = open_store_from_args(args, write=False)
    pid, args.file = _export_target(args, store)
    dataset = args.format == "dataset"
    with progress_bar(args, "exporting", enabled=args.file != "-") as bar:
        if args.file == "-":
            out = sys.stdout.buffer
            if dataset and args.pool:
                chunks = archive.iter_dataset_zip(store, pid, progress=updater(bar))
            elif dataset:
                chunks = archive.iter_profile_dataset_zip(store, pid, progress=updater(bar))
            else:
                chunks = archive.iter_export(store, pid, progress=updater(bar))
            for chunk in chunks:
                out.write(chunk)
            out.flush()
            return 0
        if dataset:
            summary = archive.export_dataset(store, pid, args.file, progress=updater(bar))
        else:
            # Beside the target, then renamed; an unknown id fails before any file exists.
            size = archive.export_to_path(store, pid, args.file, progress=updater(bar))
    if not dataset:
        if args.json:
            print_json({"id": pid, "file": args.file, "bytes": size})
        print(f"exported {pid} to {args.file} ({size} bytes)", file=sys.stderr)
        return 0
    for name in summary.missing:
        print(
            f"pool-profiles: warning: {name} is missing from the store; left out", file=sys.stderr
        )
    if args.json:
        print_json({"id": pid, "file": args.file, **dataclasses.asdict(summary)})
    print(
        f"exported {pid} to {args.file}: {summary.images} image(s), {summary.labels} "
        f"caption(s), {summary.masks} mask(s)",
        file=sys.stderr,
    )
    return 0


def run_import(args: argparse.Namespace) -> int:
    store = open_store_from_args(args)
    source = sys.stdin.buffer if args.file == "-" else args.file
    if args.file != "-" and not os.path.exists(args.file):
        raise PoolProfilesError(f"{args.file}: no such file", code="not_found")
    with progress_bar(args, "importing", unit="step") as bar:
        result = archive.import_any(store, source, name=args.name, progress=updater(bar))
    if args.json:
        print_json(result.as_dict())
        return 0
    entry = result.profile
    print(f"imported {entry['id']}  {entry['name']}")
    if result.format == "dataset":
        print(
            f"  from a dataset: {result.images} image(s), {result.labels} caption(s), "
            f"{result.masks} mask(s); {len(result.skipped)} file(s) skipped"
        )
        for item in result.skipped:
            print(f"  skipped {item.name}: {item.reason}")
    return 0


def run_copy(args: argparse.Namespace) -> int:
    src = open_store_from_args(args, write=False)
    ids = [profile_id(src, ref) for ref in args.ids] or None
    # Probed without creating anything: a copy that fails before its first write
    # (an unknown id, an unreadable manifest) leaves no empty destination behind.
    to = StoreConfig(args.to, _options(args.to_options, "--to-options"), "--to")
    dst = open_configured(to, write=False)
    if dst.url == src.url:
        raise PoolProfilesError("--to names the store being copied from", code="same_store")
    # Verify, don't trust: before the first write (the probe object is hidden).
    dst.verify_conditional_writes()
    dst.warn_if_single_writer()
    if dst.backend == "memory":
        print(
            f"pool-profiles: warning: {dst.url} is this process's memory: the copy "
            "vanishes when the command ends",
            file=sys.stderr,
        )
    with progress_bar(args, "copying") as bar:
        copied = transfer.copy_profiles(src, dst, ids, progress=updater(bar))
    if args.json:
        print_json(copied)
    else:
        for entry in copied:
            print(f"{entry['copy']} {entry['id']}  {entry['name']}")
        if not copied:
            print("no profiles to copy")
    return 0


def run_check(args: argparse.Namespace) -> int:
    if args.grace < 0:
        raise PoolProfilesError("--grace must not be negative", code="invalid")
    if args.delete_orphans and not args.repair:
        raise PoolProfilesError("--delete-orphans needs --repair", code="invalid")
    store = open_store_from_args(args, write=args.repair)
    report = check.check_store(
        store,
        repair=args.repair,
        grace_seconds=args.grace,
        delete_orphans=args.delete_orphans,
    )
    if args.json:
        print_json(report.as_dict())
    else:
        for issue in report.issues:
            state = " (repaired)" if issue.repaired else ""
            print(f"{issue.severity:<7}  {issue.kind:<18}  {issue.message}{state}")
        print(
            f"checked {report.profiles} profile(s), {report.pools} pool(s) in {report.store}: "
            + ("ok" if report.ok else "problems found")
        )
    if not report.ok:
        left = sum(1 for i in report.issues if i.severity != check.INFO and not i.repaired)
        hint = "" if args.repair else "; run with --repair to fix what can be fixed"
        print(f"pool-profiles: error: {left} problem(s) left{hint}", file=sys.stderr)
        return 1
    return 0
