"""`make_app`: the standalone aiohttp application behind `pool-profiles serve`:
the same /grid_pool routes plus the pool manager page at `/` (the shared components
under /lib/, the page's own entry under /static/ and its strings under /locales/)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from ..store import Store
from . import headers
from .auth import TokenAuth
from .context import ServerLimits, StageImage
from .errors import Handler, json_error
from .events import EventHub
from .routes import add_routes
from .webdir import locale_files, web_lib_dir

STATIC_DIR = Path(__file__).parent / "static"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]


def _host_only(host: str) -> str:
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


@web.middleware
async def same_origin_writes(request: web.Request, handler: Handler) -> web.StreamResponse:
    # A web page elsewhere may POST a form here without a CORS preflight: refuse
    # writes whose Origin is not this server. "null" (sandboxed iframes, data: URLs)
    # is refused too: this server's own page always sends its real origin.
    origin = request.headers.get("Origin")
    if request.method not in SAFE_METHODS and origin:
        if urlsplit(origin).netloc.lower() != (request.host or "").lower():
            return json_error(403, "cross-origin requests are not accepted", "forbidden_origin")
    return await handler(request)


def _as_host_header(host: str) -> str:
    """A bind address as it appears in a Host header ('::1' -> '[::1]')."""
    host = host.strip().lower()
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def host_only(allowed: Iterable[str]) -> Middleware:
    """Against DNS rebinding: a server bound to a loopback address answers only to
    loopback names and to the address it was told to bind (e.g. 127.0.0.2)."""
    hosts = frozenset(LOOPBACK_HOSTS | {_as_host_header(h) for h in allowed})

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if _host_only((request.host or "").lower()) not in hosts:
            return json_error(403, "this server only answers to localhost", "forbidden_host")
        return await handler(request)

    return middleware


@web.middleware
async def json_not_found(request: web.Request, handler: Handler) -> web.StreamResponse:
    # The router's own 404/405 are plain text; API clients expect JSON under /grid_pool.
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or not request.path.startswith("/grid_pool/"):
            raise
        code = (exc.reason or "error").lower().replace(" ", "_")
        return json_error(exc.status, exc.reason or "request failed", code)


async def _index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


def _strings_route(files: dict[str, Path]) -> Handler:
    """GET /locales/{lang}/main.json: the pack's UI strings (what ComfyUI serves at
    /i18n). The request only picks one of the fixed names; it never makes a path."""

    async def strings(request: web.Request) -> web.StreamResponse:
        path = files.get(request.match_info["lang"])
        if path is None:
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={"Cache-Control": "no-cache"})

    return strings


def make_app(
    store: Store,
    *,
    stage_image: StageImage | None = None,
    limits: ServerLimits | None = None,
    loopback_only: bool = False,
    bind_host: str | None = None,
    token: str | None = None,
) -> web.Application:
    """`loopback_only`: answer only requests addressed to a loopback name or to
    `bind_host` (the address `serve --host` binds). `token`: every route and the page
    need it (a bearer header or the login form's cookie; see auth.py)."""
    middlewares: list[Middleware] = [json_not_found, same_origin_writes]
    if loopback_only:
        middlewares.insert(1, host_only([bind_host] if bind_host else []))
    auth = TokenAuth(token) if token else None
    if auth is not None:
        middlewares.append(auth.middleware())
    app = web.Application(middlewares=middlewares)
    headers.install(app)
    if auth is not None:
        auth.install(app)
    routes = web.RouteTableDef()
    hub = EventHub()
    add_routes(routes, lambda: store, stage_image=stage_image, limits=limits, on_change=hub.emit)
    app.add_routes(routes)
    # This server's own changes reach its open pages at once (ComfyUI: its websocket).
    app.router.add_get("/grid_pool/events", hub.stream)
    app.on_shutdown.append(hub.close)
    app.router.add_get("/", _index)
    app.router.add_static("/static/", STATIC_DIR, follow_symlinks=False)
    lib = web_lib_dir()
    if lib is None:
        raise RuntimeError("the pool manager's components (web/lib) are missing")
    # The same component files ComfyUI serves from the pack's web/ folder.
    app.router.add_static("/lib/", lib, follow_symlinks=False)
    app.router.add_get("/locales/{lang}/main.json", _strings_route(locale_files()))
    return app
