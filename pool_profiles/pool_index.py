"""Every pool of a store at a glance (the Pools sidebar and the standalone page): each
profile's pool and each node's own pool with its image count, bytes, a few slot
images for thumbnails and its last change; and deleting a node pool nobody needs.

Cheap on purpose: one listing of the store's root, then per pool one listing (sizes,
the manifest's time) and one manifest read through the shared manifest cache (a stat
when unchanged) — in a few threads, since on S3 each is a request."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from . import registry
from .blobs import IMAGE_EXTS, MANIFEST, THUMBS
from .errors import ConflictError, NotFoundError
from .ids import ID_PATTERN, check_id
from .manifest import current_manifest
from .staging import MARKER, read_stage
from .store import Store

#: How many slot images each entry names for its preview.
PREVIEW_SLOTS = 4
_WORKERS = 8


def _pool_facts(store: Store, pool_id: str, preview: int) -> dict[str, Any] | None:
    entries = store.listdir(pool_id)
    names = {e.name for e in entries}
    if MARKER in names:
        return None  # a stage (import, copy) under way or left behind: not a pool yet
    size = sum(e.size for e in entries if not e.is_dir and e.name.lower().endswith(IMAGE_EXTS))
    changed = [e.mtime for e in entries if e.name == MANIFEST and e.mtime is not None]
    if not changed:  # an earlier-pack pool without manifest: its newest blob
        changed = [e.mtime for e in entries if e.mtime is not None and e.name != THUMBS]
    manifest = current_manifest(store, pool_id)
    slots = manifest["slots"]
    if not slots and MANIFEST not in names:
        return None  # an empty folder (e.g. only thumbnails left): nothing to show
    return {
        "id": pool_id,
        "count": len(slots),
        "bytes": size,
        "changed": max(changed) if changed else None,
        "preview": [s["image"] for s in slots[:preview]],
    }


def list_pools(store: Store, *, preview: int = PREVIEW_SLOTS) -> list[dict[str, Any]]:
    """[{"id", "kind": "profile"|"pool", "name" (profiles; None for node pools),
    "count", "bytes", "changed" (epoch seconds or None), "preview": [image names]}],
    profiles first by name, then node pools newest first. A pool that cannot be read
    (e.g. a corrupt manifest) is listed with "error" instead of failing the list."""
    profiles = {p["id"]: p for p in registry.list_profiles(store)}
    ids = [e.name for e in store.listdir("") if e.is_dir and ID_PATTERN.match(e.name)]
    ids += [pid for pid in profiles if pid not in ids]  # a profile with no images yet

    def facts(pool_id: str) -> dict[str, Any] | None:
        try:
            found = _pool_facts(store, pool_id, preview)
        except Exception as exc:  # one damaged pool must not hide the others
            message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            found = {"id": pool_id, "count": 0, "bytes": 0, "changed": None, "preview": []}
            found["error"] = message
        if found is None and pool_id in profiles:
            found = {"id": pool_id, "count": 0, "bytes": 0, "changed": None, "preview": []}
        return found

    with ThreadPoolExecutor(max_workers=min(_WORKERS, max(1, len(ids)))) as pool:
        found = [f for f in pool.map(facts, ids) if f is not None]
    for entry in found:
        profile = profiles.get(entry["id"])
        entry["kind"] = "profile" if profile else "pool"
        entry["name"] = profile["name"] if profile else None
    named = sorted(
        (e for e in found if e["kind"] == "profile"), key=lambda e: (e["name"].casefold(), e["id"])
    )
    nodes = sorted(
        (e for e in found if e["kind"] == "pool"), key=lambda e: (-(e["changed"] or 0), e["id"])
    )
    return named + nodes


def delete_pool(store: Store, pool_id: str) -> dict[str, Any]:
    """Delete a node's own pool (its manifest, images, masks, thumbnails). A profile's
    pool is refused: deleting a profile goes through the registry. Returns what went:
    {"deleted": id, "count", "bytes"}."""
    check_id(pool_id, "pool_id")
    if any(p["id"] == pool_id for p in registry.list_profiles(store)):
        raise ConflictError(
            f"pool {pool_id} belongs to a profile: delete the profile instead",
            code="is_profile",
        )
    if read_stage(store, pool_id) is not None:
        raise ConflictError(f"pool {pool_id} is being written (an import or copy)", code="staged")
    facts = _pool_facts(store, pool_id, 0) if store.listdir(pool_id) else None
    if facts is None:
        raise NotFoundError(f"no pool with id {pool_id} in this store", code="no_pool")
    store.delete_tree(pool_id)
    return {"deleted": pool_id, "count": facts["count"], "bytes": facts["bytes"]}
