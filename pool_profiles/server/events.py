"""Change events: after every successful change route, one small event names what
changed, so every open grid and dropdown of this server refreshes at once (not at the
next poll). Inside ComfyUI the adapter sends it over ComfyUI's websocket
("pool_profiles.changed"); `pool-profiles serve` streams it to its page as
Server-Sent Events (GET /grid_pool/events).

Event: {"kind": "pool" | "profiles" | "pools", "pool_id": id or None, "route": path}.
"pool": one pool's slots changed; "profiles": the profile list (and perhaps the pool
of `pool_id`, a deleted or new profile); "pools": a node pool was deleted."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .errors import Handler

log = logging.getLogger("pool_profiles.server")

Emit = Callable[[dict[str, Any]], None]
EVENT = "pool_profiles.changed"

# Change answers start with the id they changed (pool views: "pool_id"; profiles: "id").
_POOL_ID = re.compile(rb'^\{"pool_id":\s*"([A-Za-z0-9_-]{1,64})"')
_PROFILE_ID = re.compile(rb'"(?:id|deleted)":\s*"([A-Za-z0-9_-]{1,64})"')
#: Routes that change nothing although they are POSTs.
_READ_ONLY = frozenset({"/grid_pool/stage_for_mask"})


def event_for(path: str, body: bytes | None) -> dict[str, Any] | None:
    """The event a successful POST to `path` that answered `body` stands for."""
    if path in _READ_ONLY or not path.startswith("/grid_pool/"):
        return None
    head = (body or b"")[:512]
    if path.startswith("/grid_pool/profiles/"):
        m = _PROFILE_ID.search(head)
        return {"kind": "profiles", "pool_id": m.group(1).decode() if m else None, "route": path}
    if path.startswith("/grid_pool/pools/"):
        m = _PROFILE_ID.search(head)
        return {"kind": "pools", "pool_id": m.group(1).decode() if m else None, "route": path}
    m = _POOL_ID.match(head)
    return {"kind": "pool", "pool_id": m.group(1).decode() if m else None, "route": path}


def emitting(handler: Handler, path: str, emit: Emit) -> Handler:
    """`handler`, then the event of its success. An emitter that fails is logged, never
    turned into a failed request (the change is stored)."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        response = await handler(request)
        if 200 <= response.status < 300:
            body = getattr(response, "body", None)
            event = event_for(path, body if isinstance(body, bytes) else None)
            if event is not None:
                try:
                    emit(event)
                except Exception as exc:
                    log.warning("pool-profiles: could not announce a change: %s", exc)
        return response

    return wrapped


def with_events(source: web.RouteTableDef, target: web.RouteTableDef, emit: Emit | None) -> None:
    """Copy `source`'s routes into `target`, POSTs wrapped by `emitting`."""
    for route in source:
        assert isinstance(route, web.RouteDef), route
        handler = route.handler
        if emit is not None and route.method == "POST":
            handler = emitting(handler, route.path, emit)
        target.route(route.method, route.path, **route.kwargs)(handler)


class EventHub:
    """Server-Sent Events for the standalone page: every emitted event goes to every
    connected page. A slow or gone client drops events (bounded queue), never blocks."""

    KEEPALIVE_SECONDS = 20.0

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[dict[str, Any] | None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def emit(self, event: dict[str, Any]) -> None:
        loop = self._loop
        if loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._put(event)
        else:
            loop.call_soon_threadsafe(self._put, event)

    def _put(self, event: dict[str, Any] | None) -> None:
        for q in list(self._queues):
            with contextlib.suppress(asyncio.QueueFull):
                q.put_nowait(event)

    async def close(self, _app: Any = None) -> None:
        self._put(None)

    async def stream(self, request: web.Request) -> web.StreamResponse:
        self._loop = asyncio.get_running_loop()
        q: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=256)
        self._queues.add(q)
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
        )
        try:
            await response.prepare(request)
            await response.write(b": connected\n\n")
            while True:
                try:
                    event = await asyncio.wait_for(q.get(), self.KEEPALIVE_SECONDS)
                except asyncio.TimeoutError:
                    await response.write(b": keepalive\n\n")
                    continue
                if event is None:
                    break
                data = json.dumps(event, separators=(",", ":"))
                await response.write(f"event: {EVENT}\ndata: {data}\n\n".encode())
        except ConnectionResetError:
            pass  # the page went away
        finally:
            self._queues.discard(q)
        return response
