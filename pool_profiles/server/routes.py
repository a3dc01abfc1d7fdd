"""`add_routes`: every /grid_pool route on a RouteTableDef, for ComfyUI's
PromptServer.instance.routes or the standalone app alike.

Profiles (JSON bodies need Content-Type: application/json):
  GET  /grid_pool/profiles/list                    -> {"profiles": [Profile]}
  POST /grid_pool/profiles/create    {name}        -> Profile {"id", "name", "created"}
  POST /grid_pool/profiles/rename    {id, name}    -> Profile
  POST /grid_pool/profiles/delete    {id}          -> {"deleted": id, "profiles": [...]}
  POST /grid_pool/profiles/duplicate {id, name}    -> Profile (the copy)
  GET  /grid_pool/profiles/export?id=              -> application/zip stream
  POST /grid_pool/profiles/import  multipart file, [name] -> Profile
Pools (each change answers with the pool view, see pools.pool_view):
  GET  /grid_pool/list?pool_id=                    -> View {"pool_id", "active", "count",
                         "slots": [{"index", "image", "mask", "label", "added", "has_mask"}]}
  POST /grid_pool/add      multipart pool_id, image, [label] -> View + {"slot": {...}}
  POST /grid_pool/remove   {pool_id, index}        -> View
  POST /grid_pool/active   {pool_id, index}        -> View
  POST /grid_pool/label    {pool_id, index, label} -> View
  POST /grid_pool/reorder  {pool_id, order: [..]}  -> View
  POST /grid_pool/set_mask multipart pool_id, index, mask | clear=true;
                           or JSON {pool_id, index, mask: null} -> View
  POST /grid_pool/copy     {source, target}        -> View of target (a new pool with
                           copies of source's slots; 409 when target is not empty)
  POST /grid_pool/stage_for_mask {pool_id, index}  -> {"name", "subfolder", "type",
                                                       "pool_id", "index", "image"} | 501
  GET  /grid_pool/image?pool_id=&name=, /grid_pool/thumb?pool_id=&name= -> bytes (ETag)
  GET  /grid_pool/pools -> {"pools": [{"id", "kind": "profile"|"pool", "name", "count",
                           "bytes", "changed", "preview": [image names]}]} (pool_index)
  POST /grid_pool/pools/delete {pool_id}          -> {"deleted", "count", "bytes"} (a node's
                           own pool; 409 for a profile's)
  GET  /grid_pool/store_info -> {"backend", "url", "capabilities", "single_writer",
                                 "single_writer_reason", "stage_for_mask"}
Slot edits (remove, active, label, reorder, set_mask) answer with the change only:
  {"pool_id", "change", "active", "count", ...} (pool_routes.change_answer).
Every successful POST is announced through `on_change` (events.py).
History (see history_routes.py): GET /grid_pool/history?pool_id=, POST /grid_pool/undo,
  POST /grid_pool/restore, GET /grid_pool/profiles/deleted, POST /grid_pool/profiles/restore;
  every pool change's answer also carries {"history": {"version", "description"}}.
Errors: {"error": message, "code": short_code} with 400/403/404/409/413/415/501/503,
and 500 {"code": "internal"} (details only in the server log)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from ..secrets import public_url
from ..store import Store
from .blob_routes import add_blob_routes
from .context import Context, ServerLimits, StageImage
from .errors import json_errors
from .events import Emit, with_events
from .history_routes import add_history_routes
from .pool_routes import add_pool_routes
from .pools_routes import add_pools_routes
from .profile_routes import add_profile_routes
from .uploads import clean_stale_spools

__all__ = ["ServerLimits", "add_routes", "public_url", "store_info"]


def store_info(store: Store) -> dict[str, Any]:
    # Options (endpoint, keys, profiles) never leave the server: the URL only.
    return {
        "backend": store.backend,
        "url": public_url(store.url),
        "capabilities": store.capabilities.as_dict(),
        "single_writer": store.capabilities.single_writer,
        # Why, when the service was found to ignore conditional writes and the store
        # options accepted single-writer mode (None otherwise).
        "single_writer_reason": store.cas_problem,
    }


def add_routes(
    routes: web.RouteTableDef,
    get_store: Callable[[], Store],
    *,
    stage_image: StageImage | None = None,
    limits: ServerLimits | None = None,
    on_change: Emit | None = None,
) -> None:
    """Register every /grid_pool route. `get_store` is called per request (in a worker
    thread), so the adapter decides how a Store is opened and cached. `stage_image(bytes,
    filename) -> {"name", "subfolder", "type"}` copies an image where ComfyUI's MaskEditor
    can load it; without it /grid_pool/stage_for_mask answers 501. `on_change(event)` is
    called on the event loop after each successful change (events.event_for)."""
    ctx = Context(get_store, limits or ServerLimits(), stage_image)
    clean_stale_spools()  # what a server killed mid-upload left behind
    changing = web.RouteTableDef()
    add_profile_routes(changing, ctx)
    add_pool_routes(changing, ctx)
    add_pools_routes(changing, ctx)
    add_history_routes(changing, ctx)  # undo / restore are changes too
    with_events(changing, routes, on_change)
    add_blob_routes(routes, ctx)

    @routes.get("/grid_pool/store_info")
    @json_errors
    async def get_store_info(request: web.Request) -> web.Response:
        info = await ctx.run(store_info)
        info["stage_for_mask"] = stage_image is not None
        return web.json_response(info, headers={"Cache-Control": "no-store"})
