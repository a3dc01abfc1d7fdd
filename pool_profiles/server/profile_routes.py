"""/grid_pool/profiles/*: list, create, rename, delete, duplicate, export, import."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from aiohttp import web

from .. import archive, registry
from ..errors import PoolProfilesError
from ..store import Store
from .conditional import conditional_json, profiles_listing
from .context import Context
from .errors import BadRequest, json_errors
from .params import get_id, get_text, query_id
from .streaming import ThreadedIterator, content_disposition
from .uploads import read_form, read_json

log = logging.getLogger("pool_profiles.server")

NO_STORE = {"Cache-Control": "no-store"}


def _listing(store: Store) -> dict[str, Any]:
    return {"profiles": registry.list_profiles(store)}


def _delete(store: Store, pid: str) -> dict[str, Any]:
    registry.delete_profile(store, pid)
    return {"deleted": pid, **_listing(store)}


def _start_export(store: Store, pid: str, fmt: str) -> tuple[dict[str, Any], Iterator[bytes]]:
    if fmt == "dataset":  # the LoRA-trainer layout (NNNN.<ext> + .txt + masks/), zipped
        return registry.get_profile(store, pid), archive.iter_profile_dataset_zip(store, pid)
    return registry.get_profile(store, pid), archive.iter_export(store, pid)


def _export_format(query: Any) -> str:
    fmt = query.get("format", "zip")
    if fmt not in archive.EXPORT_FORMATS:
        shown = repr(fmt[:40])
        raise BadRequest(f"format {shown} is not one of: {', '.join(archive.EXPORT_FORMATS)}")
    return fmt


def add_profile_routes(routes: web.RouteTableDef, ctx: Context) -> None:
    @routes.get("/grid_pool/profiles/list")
    @json_errors
    async def list_profiles(request: web.Request) -> web.Response:
        inm = request.headers.get("If-None-Match")
        etag, listing = await ctx.run(profiles_listing, inm)
        return conditional_json(listing, etag)

    @routes.post("/grid_pool/profiles/create")
    @json_errors
    async def create(request: web.Request) -> web.Response:
        body = await read_json(request, ctx.limits.max_json_bytes)
        name = get_text(body, "name")
        return web.json_response(await ctx.run(registry.create_profile, name))

    @routes.post("/grid_pool/profiles/rename")
    @json_errors
    async def rename(request: web.Request) -> web.Response:
        body = await read_json(request, ctx.limits.max_json_bytes)
        pid, name = get_id(body), get_text(body, "name")
        return web.json_response(await ctx.run(registry.rename_profile, pid, name))

    @routes.post("/grid_pool/profiles/delete")
    @json_errors
    async def delete(request: web.Request) -> web.Response:
        body = await read_json(request, ctx.limits.max_json_bytes)
        return web.json_response(await ctx.run(_delete, get_id(body)))

    @routes.post("/grid_pool/profiles/duplicate")
    @json_errors
    async def duplicate(request: web.Request) -> web.Response:
        body = await read_json(request, ctx.limits.max_json_bytes)
        pid, name = get_id(body), get_text(body, "name")
        return web.json_response(await ctx.run(registry.duplicate_profile, pid, name))

    @routes.get("/grid_pool/profiles/export")
    @json_errors
    async def export(request: web.Request) -> web.StreamResponse:
        pid = query_id(request.query, "id")
        fmt = _export_format(request.query)

        def headers(entry: dict[str, Any]) -> dict[str, str]:
            name = str(entry.get("name") or pid)
            return {
                "Content-Type": "application/zip",
                "Content-Disposition": content_disposition(
                    f"{name} dataset" if fmt == "dataset" else name
                ),
                **NO_STORE,
            }

        if request.method == "HEAD":
            # Headers only: a streamed body would be written onto the connection anyway.
            return web.Response(headers=headers(await ctx.run(registry.get_profile, pid)))
        entry, it = await ctx.run(_start_export, pid, fmt)
        chunks = ThreadedIterator(it)
        try:
            # The first chunk before any header: a failure here is still a JSON error.
            first = await chunks.next()
            resp = web.StreamResponse(headers=headers(entry))
            await resp.prepare(request)
            chunk = first
            try:
                while chunk is not None:
                    if chunk:
                        await resp.write(chunk)
                    chunk = await chunks.next()
            except (ConnectionResetError, BrokenPipeError):
                log.debug("export of %s: the client went away", pid)
                return resp
            except Exception as exc:
                # Headers are sent: no JSON error possible. Cut the stream so the
                # client sees a failed download, not a short zip.
                if isinstance(exc, PoolProfilesError):  # storage news: one line
                    log.warning("pool-profiles: export of %s failed: %s", pid, exc.message)
                else:
                    log.exception("pool-profiles: export of %s failed mid-stream", pid)
                if request.transport is not None:
                    request.transport.close()
                return resp
            await resp.write_eof()
            return resp
        finally:
            chunks.close_soon()

    @routes.post("/grid_pool/profiles/import")
    @json_errors
    async def import_(request: web.Request) -> web.Response:
        form = await read_form(request, text=("name",), spool={"file": ctx.limits.import_bytes()})
        try:
            if "file" not in form.spooled:
                raise BadRequest("missing file field 'file' (a profile or dataset zip)")
            name = (form.text.get("name") or "").strip() or None
            spooled = form.spooled["file"]
            # A profile zip or a dataset zip (told apart by its members): the answer is
            # the profile's entry plus the format and the files a dataset skipped.
            result = await ctx.run(
                archive.import_any,
                spooled.path,
                name=name,
                filename=spooled.filename or None,
                limits=ctx.limits.import_limits,
                image_limits=ctx.limits.images(),
            )
        finally:
            form.cleanup()
        return web.json_response(result.as_dict())
