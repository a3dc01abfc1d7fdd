"""`add_routes`: every /grid_pool route on a RouteTableDef, for ComfyUI's
PromptServer.instance.routes or the standalone app alike."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from aiohttp import web

from ..store import Store
from .blob_routes import add_blob_routes
from .context import Context, ServerLimits, StageImage
from .errors import json_errors
from .pool_routes import add_pool_routes
from .profile_routes import add_profile_routes

__all__ = ["ServerLimits", "add_routes", "public_url", "store_info"]


def public_url(url: str) -> str:
    """The store URL without user info, query or fragment (they can carry secrets)."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def store_info(store: Store) -> dict[str, Any]:
    # Options (endpoint, keys, profiles) never leave the server: the URL only.
    return {
        "backend": store.backend,
        "url": public_url(store.url),
        "capabilities": store.capabilities.as_dict(),
        "single_writer": store.capabilities.single_writer,
    }


def add_routes(
    routes: web.RouteTableDef,
    get_store: Callable[[], Store],
    *,
    stage_image: StageImage | None = None,
    limits: ServerLimits | None = None,
) -> None:
    """Register every /grid_pool route. `get_store` is called per request (in a worker
    thread), so the adapter decides how a Store is opened and cached. `stage_image(bytes,
    filename) -> {"name", "subfolder", "type"}` copies an image where ComfyUI's MaskEditor
    can load it; without it /grid_pool/stage_for_mask answers 501."""
    ctx = Context(get_store, limits or ServerLimits(), stage_image)
    add_profile_routes(routes, ctx)
    add_pool_routes(routes, ctx)
    add_blob_routes(routes, ctx)

    @routes.get("/grid_pool/store_info")
    @json_errors
    async def get_store_info(request: web.Request) -> web.Response:
        info = await ctx.run(store_info)
        info["stage_for_mask"] = stage_image is not None
        return web.json_response(info, headers={"Cache-Control": "no-store"})
