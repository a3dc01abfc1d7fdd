"""The profile registry `profiles.json`: {"profiles": [{"id", "name", "created", ...}]}.
CONTRACT STUB — helper fills in. Every change is a `Store.update_json` (versioned, retried)."""

from __future__ import annotations

from typing import Any

from .store import Store

REGISTRY_KEY = "profiles.json"

Profile = dict[str, Any]  # {"id": str, "name": str, "created": float, ...unknown keys kept}


def list_profiles(store: Store) -> list[Profile]:
    """All entries (missing registry: []). Corrupt: quarantined copy + CorruptDataError."""
    raise NotImplementedError


def get_profile(store: Store, pid: str) -> Profile:
    """The entry for id `pid` (checked) or NotFoundError."""
    raise NotImplementedError


def find_by_name(store: Store, name: str) -> Profile | None:
    """Case-insensitive name lookup (used by the PoolProfile node for API workflows)."""
    raise NotImplementedError


def create_profile(
    store: Store, name: str, *, pid: str | None = None, ts: float | None = None
) -> Profile:
    """New empty profile (ConflictError code 'name_taken' for a duplicate name)."""
    raise NotImplementedError


def rename_profile(store: Store, pid: str, name: str) -> Profile:
    raise NotImplementedError


def delete_profile(store: Store, pid: str) -> None:
    """Remove the entry, then its pool data. NotFoundError for an unknown id."""
    raise NotImplementedError


def duplicate_profile(
    store: Store, src_id: str, name: str, *, pid: str | None = None, ts: float | None = None
) -> Profile:
    """Copy images, masks, labels, thumbnails (server-side copy where possible)."""
    raise NotImplementedError


def register_profile(store: Store, pid: str, name: str, *, ts: float | None = None) -> Profile:
    """Add an entry for pool data already written (import/copy): a colliding name gets
    ' (2)', ' (3)', ... Returns the entry as stored."""
    raise NotImplementedError
