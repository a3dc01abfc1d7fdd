"""`pool-profiles`: the operator's command line. A thin adapter over the core: each
command module registers its sub-commands; errors become one line and exit 1."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import PoolProfilesError
from . import backends_cmd, history_cmd, pool_cmd, profiles_cmd, serve_cmd, transfer_cmd
from .common import add_store_arguments

# history_cmd adds actions to `pool` and `profiles`, so it comes after them.
COMMAND_MODULES = [backends_cmd, profiles_cmd, pool_cmd, history_cmd, transfer_cmd, serve_cmd]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pool-profiles",
        description="Manage Pool Profiles image pools and profiles on any store.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_store_arguments(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for mod in COMMAND_MODULES:
        mod.register(sub)
    for child in _sub_parsers(parser):
        add_store_arguments(child, top=False)
    return parser


def _sub_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every parser below `parser` (commands and their actions), once each."""
    found: list[argparse.ArgumentParser] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):  # aliases share one
                found += [child, *_sub_parsers(child)]
    return found


class _Prefixed(logging.Formatter):
    """Log lines start with "pool-profiles: " once (many messages already do)."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return text if text.startswith("pool-profiles:") else f"pool-profiles: {text}"


def _setup_logging(command: str | None) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(_Prefixed("%(message)s"))
    if command != "serve":
        # Damaged documents are logged (for server logs) and raised as the same news,
        # which main() prints: a one-shot command says it once.
        handler.addFilter(lambda record: record.name != "pool_profiles.documents")
    logging.basicConfig(level=logging.WARNING, handlers=[handler])


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(getattr(args, "command", None))
    try:
        return int(args.func(args) or 0)
    except PoolProfilesError as exc:
        print(f"pool-profiles: error: {exc.message}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. `pool-profiles profiles list --json | head`
        # Point stdout at devnull so the interpreter's final flush stays quiet too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # a busy port, a missing or unwritable file: one line too
        what = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"pool-profiles: error: {what}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("pool-profiles: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
