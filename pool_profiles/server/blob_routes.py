"""GET /grid_pool/image and /grid_pool/thumb: blob bytes from the store itself
(ComfyUI's /view only reads local disk). Blobs are immutable, so they are cached
forever and revalidated by a strong content ETag."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable

from aiohttp import web

from .. import pools
from ..errors import NotFoundError
from ..store import Store
from .context import Context
from .errors import BadRequest, json_errors
from .params import query_id

IMMUTABLE = "public, max-age=31536000, immutable"

_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".bmp": "image/bmp",
}


def content_type(data: bytes, name: str) -> str:
    """From the bytes first (thumbnails are WEBP whatever their name), else the name."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return _TYPES.get(os.path.splitext(name)[1].lower(), "application/octet-stream")


def etag_of(data: bytes) -> str:
    return '"' + hashlib.sha256(data).hexdigest()[:40] + '"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = [t.strip() for t in if_none_match.split(",")]
    return "*" in tags or etag in tags or f"W/{etag}" in tags


def _blob_reader(
    read: Callable[[Store, str, str], bytes],
) -> Callable[[Store, str, str], bytes]:
    def run(store: Store, pool_id: str, name: str) -> bytes:
        try:
            return read(store, pool_id, name)
        except FileNotFoundError:
            raise NotFoundError(f"pool {pool_id} has no image {name}") from None

    return run


def add_blob_routes(routes: web.RouteTableDef, ctx: Context) -> None:
    async def serve(request: web.Request, read: Callable[[Store, str, str], bytes]) -> web.Response:
        pool_id = query_id(request.query, "pool_id")
        if "name" not in request.query:
            raise BadRequest("missing query parameter 'name'")
        name = pools.check_blob_name(request.query["name"])
        data = await ctx.run(_blob_reader(read), pool_id, name)
        etag = etag_of(data)
        headers = {
            "ETag": etag,
            "Cache-Control": IMMUTABLE,
            "X-Content-Type-Options": "nosniff",
        }
        if _matches(request.headers.get("If-None-Match"), etag):
            return web.Response(status=304, headers=headers)
        return web.Response(
            body=data, headers={**headers, "Content-Type": content_type(data, name)}
        )

    @routes.get("/grid_pool/image")
    @json_errors
    async def image(request: web.Request) -> web.Response:
        return await serve(request, pools.read_blob)

    @routes.get("/grid_pool/thumb")
    @json_errors
    async def thumb(request: web.Request) -> web.Response:
        return await serve(request, pools.thumbnail)
