"""/grid_pool/history, /undo, /restore and the deleted profiles' routes.

  GET  /grid_pool/history?pool_id=[&limit=]   -> {"pool_id", "versions": [{"version",
                         "time", "kind", "description", "count"}], "max_versions", "max_days"}
  POST /grid_pool/undo     {pool_id, [expect]}  -> View + {"history", "undone"}
  POST /grid_pool/restore  {pool_id, version}   -> View + {"history", "restored"}
  GET  /grid_pool/profiles/deleted              -> {"profiles": [{"id", "name", "created",
                                                    "deleted", "version"}]}
  POST /grid_pool/profiles/restore {id}         -> Profile

Pool changes answer with their history version too (`with_change`): {"history":
{"version", "description"}} beside the view, so a page's Undo names exactly the change
it made (`expect`) and never takes back one it was not shown."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .. import history
from ..store import Store
from .conditional import encode_view, json_body
from .context import Context
from .errors import BadRequest, json_errors
from .params import get_id, query_id, require
from .uploads import read_json

NO_STORE = {"Cache-Control": "no-store"}
MAX_LIMIT = 1000


def _splice(view: bytes, extra: dict[str, Any]) -> bytes:
    """A view's JSON object with more keys last (the view is already encoded; its first
    key, "pool_id", stays first: the change events read it from the answer's head)."""
    body = view.rstrip()
    if not extra or not body.startswith(b"{") or not body.endswith(b"}"):
        return view
    tail = json.dumps(extra, separators=(",", ":")).encode("ascii")
    inner = body[1:-1].strip()
    return b"{" + inner + (b"," if inner else b"") + tail[1:]


def with_change(run: Callable[..., bytes]) -> Callable[..., bytes]:
    """Wrap a pool change answering with view bytes: the answer also names the history
    version the change wrote (absent when history is off or nothing changed)."""

    def wrapped(*args: Any, **kwargs: Any) -> bytes:
        with history.capture() as got:
            body = run(*args, **kwargs)
        return _splice(body, {"history": got[-1]}) if got else body

    return wrapped


def _undo(store: Store, pool_id: str, expect: str | None) -> bytes:
    out = history.undo(store, pool_id, expect=expect)
    extra: dict[str, Any] = {"undone": out["undone"]}
    if out["version"]:
        extra["history"] = {"version": out["version"], "description": _newest(store, pool_id)}
    return encode_view(pool_id, out["manifest"], **extra)


def _restore(store: Store, pool_id: str, version: str) -> bytes:
    out = history.restore(store, pool_id, version)
    extra: dict[str, Any] = {"restored": out["restored"]}
    if out["version"]:
        extra["history"] = {"version": out["version"], "description": _newest(store, pool_id)}
    return encode_view(pool_id, out["manifest"], **extra)


def _newest(store: Store, pool_id: str) -> str:
    newest = history.history_of(store, history.pool_doc(pool_id), limit=1)
    return newest[0].description if newest else ""


def _limit(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit() or not 0 < int(raw) <= MAX_LIMIT:
        raise BadRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


def add_history_routes(routes: web.RouteTableDef, ctx: Context) -> None:
    @routes.get("/grid_pool/history")
    @json_errors
    async def pool_history(request: web.Request) -> web.Response:
        pool_id = query_id(request.query, "pool_id")
        limit = _limit(request.query.get("limit"))
        out = await ctx.run(history.pool_history, pool_id, limit=limit)
        return web.json_response(out, headers=NO_STORE)

    @routes.post("/grid_pool/undo")
    @json_errors
    async def undo(request: web.Request) -> web.Response:
        body = await read_json(request, ctx.limits.max_json_bytes)
        pool_id = get_id(body, "pool_id")
        expect = body.get("expect")
        if expect is not None:
            expect = history.check_version(expect)
        return json_body(await ctx.run(_undo, pool_id, expect))

    @routes.post("/grid_pool/restore")
    @json_errors
    async def restore(request: web.Request) -> web.Response:
        body = await read_json(request, ctx.limits.max_json_bytes)
        pool_id = get_id(body, "pool_id")
        version = history.check_version(require(body, "version"))
        return json_body(await ctx.run(_restore, pool_id, version))

    @routes.get("/grid_pool/profiles/deleted")
    @json_errors
    async def deleted(request: web.Request) -> web.Response:
        profiles = await ctx.run(history.deleted_profiles)
        return web.json_response({"profiles": profiles}, headers=NO_STORE)

    @routes.post("/grid_pool/profiles/restore")
    @json_errors
    async def restore_profile(request: web.Request) -> web.Response:
        body = await read_json(request, ctx.limits.max_json_bytes)
        return web.json_response(await ctx.run(history.restore_profile, get_id(body)))
