"""What every CLI command shares: opening the configured store, printing JSON."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..config import StoreConfig, _options, open_configured, resolve
from ..store import Store

DEFAULT_ROOT = "./grid_pool"


def store_config(args: argparse.Namespace) -> StoreConfig:
    if getattr(args, "store", None):
        return StoreConfig(args.store, _options(args.store_options, "--store-options"), "--store")
    return resolve(
        default_root=DEFAULT_ROOT, config_file=args.config, require_config_file=bool(args.config)
    )


def open_store_from_args(args: argparse.Namespace) -> Store:
    return open_configured(store_config(args))


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
