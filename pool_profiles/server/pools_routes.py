"""/grid_pool/pools: every pool of the store at a glance (the Pools sidebar, the
standalone page) and deleting a node's own pool (pool_index)."""

from __future__ import annotations

from aiohttp import web

from .. import pool_index
from .conditional import encode_body, json_body
from .context import Context
from .errors import json_errors
from .params import get_id
from .uploads import read_json


def add_pools_routes(routes: web.RouteTableDef, ctx: Context) -> None:
    @routes.get("/grid_pool/pools")
    @json_errors
    async def list_pools(request: web.Request) -> web.Response:
        def run(store) -> bytes:  # listed and encoded in the worker thread
            return encode_body({"pools": pool_index.list_pools(store)})

        return json_body(await ctx.run(run), headers={"Cache-Control": "no-store"})

    @routes.post("/grid_pool/pools/delete")
    @json_errors
    async def delete_pool(request: web.Request) -> web.Response:
        body = await read_json(request, ctx.limits.max_json_bytes)
        pool_id = get_id(body, "pool_id")
        return web.json_response(await ctx.run(pool_index.delete_pool, pool_id))
