"""Deleted profiles: with history on, deleting a profile removes its registry entry
(the registry's history keeps the entry, its name and when) and keeps its pool, so it
can be restored until that history version is pruned; then the pool is collected
(collect.deleted_pools)."""

from __future__ import annotations

from typing import Any

from ..errors import ConflictError, NotFoundError
from ..ids import check_id
from ..store import Store
from .entries import history_of, registry_doc
from .recording import describing


def deleted_profiles(store: Store, *, registered: set[str] | None = None) -> list[dict[str, Any]]:
    """Profiles deleted within the kept registry history and not registered again,
    newest first: [{"id", "name", "created", "deleted", "version"}]. `registered`: the
    ids the registry lists, when the caller read it already."""
    from .. import registry

    current = registered
    if current is None:
        current = {p["id"] for p in registry.list_profiles(store)}
    out: dict[str, dict[str, Any]] = {}
    for entry in history_of(store, registry_doc()):
        subject = entry.header.get("subject")
        if entry.header.get("action") != "delete" or not isinstance(subject, dict):
            continue
        pid, name = subject.get("id"), subject.get("name")
        if not isinstance(pid, str) or not isinstance(name, str) or pid in current or pid in out:
            continue
        try:
            check_id(pid)
        except Exception:
            continue
        created = subject.get("created")
        out[pid] = {
            "id": pid,
            "name": name,
            "created": created
            if isinstance(created, (int, float)) and not isinstance(created, bool)
            else 0,
            "deleted": entry.name.time,
            "version": entry.name.id,
        }
    return list(out.values())


def restore_profile(store: Store, pid: str) -> dict[str, Any]:
    """Register deleted profile `pid` again, with its pool as it was (a taken name gets
    ' (2)'). NotFoundError when no kept version deleted it."""
    from .. import registry

    check_id(pid, "profile id")
    if any(p["id"] == pid for p in registry.list_profiles(store)):
        raise ConflictError(f"profile {pid!r} is not deleted", code="not_deleted")
    found = next((d for d in deleted_profiles(store) if d["id"] == pid), None)
    if found is None:
        raise NotFoundError(
            f"no deleted profile {pid!r} can be restored (unknown, or pruned from history)",
            code="not_restorable",
        )
    with describing(f"restored profile “{found['name']}”", "restore"):
        return registry.register_profile(store, pid, found["name"], ts=found["created"] or None)
