"""`pool-profiles serve`'s browser security headers and its access token: which
answers carry which policy, 401s without the token (JSON on routes, the login form on
the page), bearer and cookie logins, the loopback rule, and a token that never shows
in what the server prints. The pack's routes inside ComfyUI get none of this."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web

from pool_profiles.backends import open_store
from pool_profiles.cli import main
from pool_profiles.server.app import make_app
from pool_profiles.server.auth import COOKIE, PUBLIC_FILES
from pool_profiles.server.headers import PAGE_POLICY, RESOURCE_POLICY

TOKEN = "s3cret-Token_for-tests-0123456789"
REPO = Path(__file__).resolve().parent.parent


def policy(header: str) -> dict[str, str]:
    parts = (p.strip().split(" ", 1) for p in header.split(";") if p.strip())
    return {p[0]: (p[1] if len(p) > 1 else "") for p in parts}


def assert_common(headers) -> None:
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "frame-ancestors" in policy(headers["Content-Security-Policy"])


# -- headers --------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_the_page_gets_a_strict_policy_and_everything_else_a_closed_one(
    aiohttp_client, tmp_path
):
    client = await aiohttp_client(make_app(open_store(str(tmp_path / "s")), loopback_only=True))
    page = await client.get("/")
    assert page.status == 200 and page.content_type == "text/html"
    assert_common(page.headers)
    csp = policy(page.headers["Content-Security-Policy"])
    assert csp["default-src"] == "'none'"
    assert csp["script-src"] == "'self'"  # no inline script, no eval
    assert csp["frame-ancestors"] == "'none'"
    assert csp["base-uri"] == "'none'" and csp["form-action"] == "'self'"
    assert "unsafe-eval" not in PAGE_POLICY
    # a revalidation of the page (304, no type) keeps the page's policy: browsers merge
    # a 304's headers into the page they keep
    validators = {"If-Modified-Since": page.headers["Last-Modified"]}
    again = await client.get("/", headers=validators)
    assert again.status == 304
    assert again.headers["Content-Security-Policy"] == PAGE_POLICY

    for path, status in [
        ("/grid_pool/profiles/list", 200),  # JSON
        ("/static/app.js", 200),
        ("/lib/pool_grid.js", 200),
        ("/grid_pool/no/such/route", 404),  # errors too
        ("/static/missing.js", 404),
    ]:
        resp = await client.get(path)
        assert resp.status == status, path
        assert_common(resp.headers)
        assert resp.headers["Content-Security-Policy"] == RESOURCE_POLICY, path
    js = await client.get("/lib/pool_grid.js")
    # nosniff: a module script must come with a JavaScript type
    assert "javascript" in js.content_type


@pytest.mark.asyncio
async def test_comfyuis_routes_get_no_headers_of_ours(aiohttp_client, tmp_path):
    # Inside ComfyUI the routes go into ComfyUI's own table (its server sets its policy).
    from pool_profiles.server.routes import add_routes

    store = open_store(str(tmp_path / "s"))
    app = web.Application()
    routes = web.RouteTableDef()
    add_routes(routes, lambda: store)
    app.add_routes(routes)
    client = await aiohttp_client(app)
    resp = await client.get("/grid_pool/profiles/list")
    assert resp.status == 200
    for name in ("Content-Security-Policy", "X-Frame-Options", "Referrer-Policy"):
        assert name not in resp.headers


# -- the token, in process ------------------------------------------------------------


@pytest_asyncio.fixture
async def guarded(aiohttp_client, tmp_path):
    app = make_app(open_store(str(tmp_path / "s")), token=TOKEN)
    return await aiohttp_client(app)


def origin(client) -> dict[str, str]:
    return {"Origin": f"http://{client.server.host}:{client.server.port}"}


@pytest.mark.asyncio
async def test_without_the_token_routes_answer_401_json_and_the_page_a_login_form(guarded):
    for method, path in [
        ("GET", "/grid_pool/profiles/list"),
        ("GET", "/grid_pool/store_info"),
        ("GET", "/static/app.js"),
        ("GET", "/lib/api.js"),
        ("GET", "/grid_pool/no/such/route"),
    ]:
        resp = await guarded.request(method, path)
        assert resp.status == 401, path
        assert await resp.json() == {
            "error": "this server needs its access token",
            "code": "unauthorized",
        }
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        assert_common(resp.headers)
    resp = await guarded.post(
        "/grid_pool/profiles/create", json={"name": "x"}, headers=origin(guarded)
    )
    assert resp.status == 401
    page = await guarded.get("/")
    assert page.status == 401 and page.content_type == "text/html"
    text = await page.text()
    assert '<form method="post" action="/login">' in text and 'name="token"' in text
    assert_common(page.headers)
    for wrong in ("Bearer nope", f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN):
        resp = await guarded.get("/grid_pool/profiles/list", headers={"Authorization": wrong})
        assert resp.status == 401, wrong


@pytest.mark.asyncio
async def test_a_bearer_token_opens_every_route(guarded):
    auth = {"Authorization": f"Bearer {TOKEN}", **origin(guarded)}
    created = await guarded.post("/grid_pool/profiles/create", json={"name": "A"}, headers=auth)
    assert created.status == 200, await created.text()
    listed = await guarded.get("/grid_pool/profiles/list", headers=auth)
    assert [p["name"] for p in (await listed.json())["profiles"]] == ["A"]
    assert (await guarded.get("/", headers=auth)).status == 200
    assert (await guarded.get("/lib/api.js", headers=auth)).status == 200


@pytest.mark.asyncio
async def test_the_login_form_sets_a_strict_http_only_cookie(guarded):
    wrong = await guarded.post(
        "/login", data={"token": "not-the-token-at-all"}, headers=origin(guarded)
    )
    assert wrong.status == 401
    assert 'role="alert"' in await wrong.text()
    assert COOKIE not in wrong.cookies

    # a login posted from another site is refused (login CSRF)
    cross = await guarded.post(
        "/login", data={"token": TOKEN}, headers={"Origin": "https://evil.example"}
    )
    assert cross.status == 403

    right = await guarded.post(
        "/login", data={"token": TOKEN}, headers=origin(guarded), allow_redirects=False
    )
    assert right.status == 303 and right.headers["Location"] == "/"
    cookie = right.headers["Set-Cookie"]
    assert re.search(r"(?i)\bHttpOnly\b", cookie) and re.search(r"(?i)SameSite=Strict", cookie)
    assert "Path=/" in cookie
    assert TOKEN not in cookie  # a value derived from the token, not the token
    # the client's cookie jar now carries it
    assert (await guarded.get("/grid_pool/profiles/list")).status == 200
    assert (await guarded.get("/")).status == 200
    guarded.session.cookie_jar.clear()
    assert (await guarded.get("/grid_pool/profiles/list")).status == 401


@pytest.mark.asyncio
async def test_without_the_token_only_what_the_sign_in_form_loads_is_public(guarded):
    # The form speaks the browser's language: its script and the pack's UI strings
    # (public text) load without the token; nothing else does, and only by GET/HEAD.
    page = await guarded.get("/")
    assert '<script src="/static/login.js" type="module">' in await page.text()
    for path in sorted(PUBLIC_FILES):
        resp = await guarded.get(path)
        assert resp.status == 200, path
        assert resp.headers["Content-Security-Policy"] == RESOURCE_POLICY, path
    assert PUBLIC_FILES == {
        "/static/login.js",
        "/static/page_i18n.js",
        "/locales/en/main.json",
        "/locales/zh/main.json",
    }
    for path in (
        "/static/app.js",
        "/static/style.css",
        "/static/index.html",
        "/lib/strings.js",
        "/locales/fr/main.json",
        "/locales/zh/settings.json",
        "/static/login.js/",
        "/static//login.js",
    ):
        assert (await guarded.get(path)).status == 401, path
    posted = await guarded.post("/locales/zh/main.json", headers=origin(guarded))
    assert posted.status == 401


@pytest.mark.asyncio
async def test_the_page_strings_are_the_packs_and_only_for_the_fixed_languages(
    aiohttp_client, tmp_path
):
    client = await aiohttp_client(make_app(open_store(str(tmp_path / "s")), loopback_only=True))
    for lang in ("en", "zh"):
        resp = await client.get(f"/locales/{lang}/main.json")
        assert resp.status == 200 and resp.content_type == "application/json"
        expected = json.loads((REPO / "locales" / lang / "main.json").read_text("utf-8"))
        assert await resp.json() == expected
        assert_common(resp.headers)
        assert resp.headers["Content-Security-Policy"] == RESOURCE_POLICY
    for probe in (
        "/locales/fr/main.json",
        "/locales/EN/main.json",
        "/locales/en/settings.json",
        "/locales/en/nodeDefs.json",
        "/locales/../setup.py",
        "/locales/%2e%2e/main.json",
        "/locales/..%2fen/main.json",
        "/locales/en%2fmain.json/main.json",
        "/locales/%2e%2e%2fpyproject.toml%00/main.json",
        "/locales/",
    ):
        assert (await client.get(probe)).status == 404, probe


@pytest.mark.asyncio
async def test_behind_a_tls_proxy_the_cookie_is_secure(guarded):
    resp = await guarded.post(
        "/login",
        data={"token": TOKEN},
        headers={**origin(guarded), "X-Forwarded-Proto": "https"},
        allow_redirects=False,
    )
    assert resp.status == 303
    assert re.search(r"(?i);\s*Secure\b", resp.headers["Set-Cookie"])


@pytest.mark.asyncio
async def test_with_a_token_a_proxys_host_header_is_accepted(aiohttp_client, tmp_path):
    app = make_app(open_store(str(tmp_path / "s")), token=TOKEN)
    client = await aiohttp_client(app)
    headers = {"Host": "pools.example.com", "Authorization": f"Bearer {TOKEN}"}
    assert (await client.get("/grid_pool/profiles/list", headers=headers)).status == 200


# -- the token and the command line ---------------------------------------------------


def test_without_a_token_serve_refuses_to_listen_beyond_loopback(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("POOL_PROFILES_SERVE_TOKEN", raising=False)
    code = main(["--store", str(tmp_path / "s"), "serve", "--host", "0.0.0.0"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert err == [
        "pool-profiles: error: refusing to listen on 0.0.0.0 without an access token: anyone "
        "who can reach the port could change the store; use --token-file FILE or "
        "POOL_PROFILES_SERVE_TOKEN"
    ]
    assert not (tmp_path / "s").exists()  # refused before opening anything


def test_with_a_token_serve_may_listen_beyond_loopback(capsys, tmp_path, monkeypatch):
    # No public socket in a test: an unresolvable name gets past the token rule and
    # fails only where it binds.
    monkeypatch.setenv("POOL_PROFILES_SERVE_TOKEN", TOKEN)
    code = main(["--store", str(tmp_path / "s"), "serve", "--host", "no.such.host.invalid"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(err) == 1 and err[0].startswith(
        "pool-profiles: error: cannot listen on no.such.host.invalid:8189"
    )


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "the token file {path} is empty"),
        ("   \n", "the token file {path} is empty"),
        ("tiny-Xq7", "the token file {path} is shorter than 16 characters"),
        ("has a space in it, quite long", "the token file {path} holds spaces"),
    ],
)
def test_a_bad_token_file_is_one_line_that_never_shows_it(
    content, message, capsys, tmp_path, monkeypatch
):
    monkeypatch.delenv("POOL_PROFILES_SERVE_TOKEN", raising=False)
    path = tmp_path / "token"
    path.write_text(content, encoding="utf-8")
    code = main(["--store", str(tmp_path / "s"), "serve", "--token-file", str(path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1
    assert err[0].startswith("pool-profiles: error: " + message.format(path=path))
    if content.strip():
        assert content.strip() not in err[0]


def test_a_missing_token_file_is_named(capsys, tmp_path):
    missing = tmp_path / "nope"
    code = main(["--store", str(tmp_path / "s"), "serve", "--token-file", str(missing)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert err == [
        f"pool-profiles: error: cannot read the token file {missing}: No such file or directory"
    ]


# -- a real process: the token never shows in what it prints --------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 303 of a login is the answer under test


_opener = urllib.request.build_opener(_NoRedirect)


def _request(url: str, headers: dict[str, str] | None = None, data: bytes | None = None):
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with _opener.open(req, timeout=20) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.mark.parametrize("source", ["file", "env"])
def test_a_served_token_works_and_is_never_printed(source, tmp_path):
    env = {**os.environ, "POOL_PROFILES_STORE": ""}
    env.pop("POOL_PROFILES_SERVE_TOKEN", None)
    args = []
    if source == "file":
        path = tmp_path / "token"
        path.write_text(TOKEN + "\n", encoding="utf-8")
        args = ["--token-file", str(path)]
    else:
        env["POOL_PROFILES_SERVE_TOKEN"] = TOKEN
    cmd = [sys.executable, "-m", "pool_profiles.cli", "--store", str(tmp_path / "s")]
    proc = subprocess.Popen(
        [*cmd, "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        first = proc.stdout.readline()
        match = re.search(r"serving on (http://\S+/) \(access token required", first)
        assert match, first + proc.stderr.read()
        url = match.group(1)
        assert _request(url + "grid_pool/profiles/list")[0] == 401
        status, body = _request(
            url + "grid_pool/profiles/list", {"Authorization": f"Bearer {TOKEN}"}
        )
        assert status == 200 and json.loads(body)["profiles"] == []
        # wrong guesses, a wrong login and a right one: nothing of them is printed
        _request(url + "grid_pool/profiles/list", {"Authorization": f"Bearer {TOKEN[:-1]}"})
        assert _request(url + "login", data=b"token=" + TOKEN[:-2].encode())[0] == 401
        assert _request(url + "login", data=b"token=" + TOKEN.encode())[0] == 303
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=20)
    printed = first + out + err
    for part in (TOKEN, TOKEN[:-1], TOKEN[:-2], TOKEN[4:20]):
        assert part not in printed
    assert "server stopped" in printed


def test_readme_documents_the_token():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for needle in ("--token-file", "POOL_PROFILES_SERVE_TOKEN", "Authorization: Bearer"):
        assert needle in readme
