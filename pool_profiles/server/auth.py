"""An access token for `pool-profiles serve` (a pool manager a team shares): every
route, the page and its files need it, as `Authorization: Bearer TOKEN` (scripts) or
as the session cookie the login form sets (browsers). The token is compared in
constant time and never logged, printed or sent back; the cookie holds a value derived
from it, not the token itself."""

from __future__ import annotations

import hashlib
import hmac
import html
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from ..errors import ValidationError
from .errors import Handler, json_error
from .webdir import PAGE_LANGS

COOKIE = "pool_profiles_session"
LOGIN_PATH = "/login"
MIN_LENGTH = 16
#: printable ASCII without spaces: what fits an Authorization header and a form as is
_TOKEN = re.compile(r"[\x21-\x7e]+")
_LOGIN_PAGE = Path(__file__).parent / "static" / "login.html"
#: what the sign-in form loads to speak the user's language: its script and the pack's
#: UI strings (public text, no data). Exact paths; anything else needs the token.
PUBLIC_FILES = frozenset(
    {"/static/login.js", "/static/page_i18n.js"}
    | {f"/locales/{lang}/main.json" for lang in PAGE_LANGS}
)


Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]


class BadToken(ValidationError):
    code = "bad_token"


def check_token(token: str, source: str) -> str:
    """The token, or a one-line error naming where it came from (never the value)."""
    token = token.strip()
    if not token:
        raise BadToken(f"{source} is empty")
    if not _TOKEN.fullmatch(token):
        raise BadToken(f"{source} holds spaces or non-ASCII characters; use letters, digits, -_")
    if len(token) < MIN_LENGTH:
        raise BadToken(
            f"{source} is shorter than {MIN_LENGTH} characters; make one with "
            'python -c "import secrets; print(secrets.token_urlsafe(32))"'
        )
    return token


def _digest(value: str) -> bytes:
    # Equal-length digests: compare_digest then takes the same time for any guess,
    # whatever its length.
    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).digest()


class TokenAuth:
    def __init__(self, token: str) -> None:
        self._token = _digest(token)
        self._session = hmac.new(
            token.encode("utf-8"), b"pool-profiles serve session v1", hashlib.sha256
        ).hexdigest()

    def matches(self, candidate: str) -> bool:
        return hmac.compare_digest(_digest(candidate), self._token)

    def allows(self, request: web.Request) -> bool:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return self.matches(value.strip())
        cookie = request.cookies.get(COOKIE)
        return bool(cookie) and hmac.compare_digest(_digest(cookie), _digest(self._session))

    # -- the login form ---------------------------------------------------------------

    def login_page(self, status: int, message: str = "", key: str = "") -> web.Response:
        # key: the message's name in the pack's strings, for the page to show it translated
        i18n = f' data-i18n="{html.escape(key)}"' if key else ""
        shown = f'<p role="alert" class="error"{i18n}>{html.escape(message)}</p>' if message else ""
        body = _LOGIN_PAGE.read_text(encoding="utf-8").replace("<!--message-->", shown)
        return web.Response(
            status=status,
            text=body,
            content_type="text/html",
            headers={"Cache-Control": "no-store"},
        )

    async def show_login(self, request: web.Request) -> web.Response:
        return self.login_page(200)

    async def login(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        given = form.get("token")
        if not isinstance(given, str) or not self.matches(given.strip()):
            return self.login_page(401, "That token is not right.", "wrongToken")
        response = web.Response(status=303, headers={"Location": "/", "Cache-Control": "no-store"})
        secure = request.secure or request.headers.get("X-Forwarded-Proto", "") == "https"
        response.set_cookie(
            COOKIE, self._session, path="/", httponly=True, samesite="Strict", secure=secure
        )
        return response

    def middleware(self) -> Middleware:
        @web.middleware
        async def require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
            if request.path == LOGIN_PATH or self.allows(request):
                return await handler(request)
            if request.method in ("GET", "HEAD") and request.path in PUBLIC_FILES:
                return await handler(request)
            if request.method in ("GET", "HEAD") and request.path == "/":
                return self.login_page(401)
            response = json_error(401, "this server needs its access token", "unauthorized")
            response.headers["WWW-Authenticate"] = 'Bearer realm="pool-profiles"'
            return response

        return require_token

    def install(self, app: web.Application) -> None:
        app.router.add_get(LOGIN_PATH, self.show_login)
        app.router.add_post(LOGIN_PATH, self.login)
