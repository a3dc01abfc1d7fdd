"""JSON errors for every route. Inside ComfyUI we cannot add middleware to its app,
so the mapping is a decorator around each handler instead."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from ..errors import PoolProfilesError, ValidationError

log = logging.getLogger("pool_profiles.server")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class BadRequest(ValidationError):
    """Malformed request: bad JSON or multipart, a missing or mistyped field."""

    code = "bad_request"


class UnsupportedMediaType(ValidationError):
    code = "unsupported_media_type"
    status = 415


def json_error(status: int, message: str, code: str) -> web.Response:
    return web.json_response(
        {"error": message, "code": code},
        status=status,
        headers={"Cache-Control": "no-store"},
    )


def _http_code(exc: web.HTTPException) -> str:
    return (exc.reason or "error").lower().replace(" ", "_")[:40]


def json_errors(handler: Handler) -> Handler:
    """Map PoolProfilesError to its status, aiohttp's HTTP errors to JSON, and anything
    unexpected to a logged 500 whose body never carries a traceback."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except PoolProfilesError as exc:
            if exc.status >= 500:
                log.warning("%s %s: %s", request.method, request.path, exc.message)
            return json_error(exc.status, exc.message, exc.code)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise  # redirects and 304s are answers, not errors
            return json_error(exc.status, exc.reason or "request failed", _http_code(exc))
        except (ConnectionResetError, BrokenPipeError) as exc:
            # The client went away mid-request (a closed tab, a dropped upload): one
            # line, not aiohttp's traceback. Nobody reads the answer; spools are gone.
            log.warning(
                "pool-profiles: %s %s: the client went away (%s)",
                request.method,
                request.path,
                exc or type(exc).__name__,
            )
            return json_error(400, "the client went away", "client_gone")
        except Exception:
            log.exception("pool-profiles: unexpected error in %s %s", request.method, request.path)
            return json_error(500, "internal error (details are in the server log)", "internal")

    return wrapper
