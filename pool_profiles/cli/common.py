"""What every CLI command shares: the store options (accepted before or after the
command), opening the configured store, printing JSON."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from .. import registry
from ..config import CONFIG_FILENAME, StoreConfig, _options, open_configured, read_config_file
from ..config import resolve as resolve_config
from ..errors import ConfigError, NotFoundError
from ..ids import ID_PATTERN
from ..registry import Profile
from ..store import Store

DEFAULT_ROOT = "./grid_pool"
STORE_OPTIONS = ("store", "store_options", "config", "comfyui")


def add_store_arguments(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """The options naming the store. Sub-commands repeat them with SUPPRESS defaults,
    so `pool-profiles --store X list` and `pool-profiles profiles list --store X` both
    work and a value given before the command is not reset by the sub-parser."""
    default = None if top else argparse.SUPPRESS
    group = parser.add_argument_group("store (before or after the command)")
    group.add_argument(
        "--store",
        metavar="URL",
        default=default,
        help="store URL or path (default: $POOL_PROFILES_STORE, then ./grid_pool)",
    )
    group.add_argument(
        "--store-options",
        metavar="JSON",
        default=default,
        help="JSON object of backend options for --store",
    )
    group.add_argument(
        "--config",
        metavar="FILE",
        default=default,
        help='JSON config file: {"store": URL, "options": {...}}',
    )
    group.add_argument(
        "--comfyui",
        metavar="DIR",
        default=default,
        help="use the store of the ComfyUI installed in DIR: its "
        f"user/{CONFIG_FILENAME}, else its input/grid_pool",
    )


def comfyui_config(folder: str) -> StoreConfig:
    """The store a ComfyUI in `folder` uses when its environment sets no
    POOL_PROFILES_STORE: user/pool_profiles.json, else input/grid_pool."""
    root = os.path.abspath(os.path.expanduser(folder))
    if not os.path.isfile(os.path.join(root, "main.py")) or not os.path.isdir(
        os.path.join(root, "comfy")
    ):
        raise ConfigError(f"--comfyui {folder}: not a ComfyUI folder (no main.py and comfy/)")
    config_file = os.path.join(root, "user", CONFIG_FILENAME)
    if os.path.isfile(config_file):
        return read_config_file(config_file)
    return StoreConfig(os.path.join(root, "input", "grid_pool"), {}, f"--comfyui {folder}")


def store_config(args: argparse.Namespace) -> StoreConfig:
    """Which store the command line names; an explicit option beats the environment."""
    given = [f"--{name.replace('_', '-')}" for name in STORE_OPTIONS if getattr(args, name, None)]
    if "--store-options" in given and "--store" not in given:
        raise ConfigError("--store-options needs --store (the options are for that store)")
    chosen = [g for g in given if g != "--store-options"]
    if len(chosen) > 1:
        raise ConfigError(f"use one of {', '.join(chosen)}, not several")
    if args.store:
        return StoreConfig(args.store, _options(args.store_options, "--store-options"), "--store")
    if args.config:
        return read_config_file(args.config)
    if args.comfyui:
        return comfyui_config(args.comfyui)
    return resolve_config(default_root=DEFAULT_ROOT)


def open_store_from_args(args: argparse.Namespace, *, write: bool = True) -> Store:
    """The store the command line names. A read-only command (`write=False`) creates
    nothing and gets no single-writer warning."""
    return open_configured(store_config(args), write=write)


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def print_by_id(
    args: argparse.Namespace,
    entries: list[dict[str, Any]],
    empty: str,
    line: Callable[[dict[str, Any]], str],
) -> int:
    """A listing of entries with an "id": JSON with --json, else `empty` or one line
    each, `line(entry)` after the id padded to the longest."""
    if args.json:
        print_json(entries)
    elif not entries:
        print(empty)
    else:
        width = max(len(e["id"]) for e in entries)
        for e in entries:
            print(f"{e['id']:<{width}}  {line(e)}")
    return 0


def find_profile(store: Store, ref: str) -> Profile:
    """The profile `ref` names: its id, else its name (as the PoolProfile node looks
    names up). Anything else is "no such profile", never a new hidden pool."""
    if isinstance(ref, str) and ID_PATTERN.fullmatch(ref):
        entry = next((e for e in registry.list_profiles(store) if e["id"] == ref), None)
        if entry is not None:
            return entry
    entry = registry.find_by_name(store, ref)
    if entry is None:
        raise NotFoundError(
            f"no such profile: {ref!r} (give a profile id or name; a node's pool: --pool ID)",
            code="no_profile",
        )
    return entry


def profile_id(store: Store, ref: str) -> str:
    return find_profile(store, ref)["id"]


def when(ts: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored time for a table: one that is missing, 0 (the earlier pack wrote none)
    or out of range (a damaged document) is "unknown", as wide, never a traceback."""
    try:
        if isinstance(ts, (int, float)) and not isinstance(ts, bool) and ts > 0:
            return time.strftime(fmt, time.localtime(float(ts)))
    except (ValueError, OverflowError, OSError):
        pass
    return f"{'unknown':<{len(time.strftime(fmt, time.localtime(0)))}}"
