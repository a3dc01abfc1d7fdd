"""Zip export/import in the plan's layout: profile_meta.json + pool/<files>.
CONTRACT STUB — helper fills in."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

from .registry import Profile
from .store import Store

Progress = Callable[[int, int], None]  # (done, total) in members or bytes


@dataclass(frozen=True)
class ImportLimits:
    max_members: int = 10_000
    max_member_bytes: int = 256 * 1024 * 1024
    max_total_bytes: int = 4 * 1024 * 1024 * 1024
    max_ratio: float = 200.0  # uncompressed / compressed per member


def iter_export(store: Store, pid: str, *, progress: Progress | None = None) -> Iterator[bytes]:
    """The zip as a stream of chunks, bounded memory. NotFoundError before the first chunk
    for an unknown profile."""
    raise NotImplementedError


def export_to_file(
    store: Store, pid: str, out: IO[bytes], *, progress: Progress | None = None
) -> int:
    raise NotImplementedError


def import_zip(
    store: Store,
    source: IO[bytes] | str,
    *,
    name: str | None = None,
    limits: ImportLimits | None = None,
    progress: Progress | None = None,
) -> Profile:
    """Validate every member first, write under a fresh id, register (name suffixed on
    collision). On any failure nothing is left behind. ValidationError/TooLargeError."""
    raise NotImplementedError
