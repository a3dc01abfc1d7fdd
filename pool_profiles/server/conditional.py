"""ETags and 304s for the list routes, so open grids and dropdowns can poll cheaply:
the tag is the stored document's version (S3 ETag, content hash), asked for without
reading the document where the backend can, and the view is only built on a miss."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from aiohttp import web

from .. import pools, registry
from ..errors import NotFoundError
from ..manifest import stamped_manifest
from ..store import Store


def hits(if_none_match: str | None, etag: str) -> bool:
    """Does an If-None-Match header name `etag` (weak or strong, or "*")?"""
    if not if_none_match:
        return False
    bare = etag.removeprefix("W/")
    for tag in (t.strip() for t in if_none_match.split(",")):
        if tag == "*" or tag.removeprefix("W/") == bare:
            return True
    return False


def _tag(kind: str, version: str) -> str:
    # Weak: the JSON is the same document, not byte-identical output of one file.
    digest = hashlib.sha256(f"{kind}:{version}".encode()).hexdigest()[:32]
    return f'W/"{digest}"'


def _tag_of(kind: str, doc: Any) -> str:
    return _tag(kind, json.dumps(doc, sort_keys=True))


def _profile_exists(store: Store, pool_id: str) -> bool:
    try:
        registry.get_profile(store, pool_id)
    except NotFoundError:
        return False
    return True


def pool_listing(
    store: Store, pool_id: str, if_none_match: str | None
) -> tuple[str, dict[str, Any] | None]:
    """(etag, view), or (etag, None) when the client's copy is current. The view gets
    `exists`: False only for an id no pool or profile has (an unknown id, not an
    empty pool)."""
    # The manifest's stamp (a stat, a conditional GET) tags it; unchanged, it is not
    # read again, and the view is built from the manifest already parsed.
    version, manifest = stamped_manifest(store, pool_id)
    if version is not None:
        etag = _tag("pool", version)
        if hits(if_none_match, etag):
            return etag, None
    view = pools.view_of(pool_id, manifest)
    # A pool without manifest is empty or an earlier-pack folder rebuilt from blobs.
    view["exists"] = version is not None or view["count"] > 0 or _profile_exists(store, pool_id)
    if version is None:
        etag = _tag_of("pool-nomanifest", view)
        if hits(if_none_match, etag):
            return etag, None
    return etag, view


def profiles_listing(store: Store, if_none_match: str | None) -> tuple[str, dict[str, Any] | None]:
    """(etag, {"profiles": [...]}), or (etag, None) when the client's copy is current."""
    version = store.version(registry.REGISTRY_KEY)
    if version is not None:
        etag = _tag("profiles", version)
        if hits(if_none_match, etag):
            return etag, None
    listing = {"profiles": registry.list_profiles(store)}
    if version is None:
        etag = _tag_of("profiles-none", listing)
        if hits(if_none_match, etag):
            return etag, None
    return etag, listing


def conditional_json(doc: dict[str, Any] | None, etag: str) -> web.Response:
    """200 with the document, or 304 (doc None); never cached without revalidation."""
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if doc is None:
        return web.Response(status=304, headers=headers)
    return web.json_response(doc, headers=headers)
