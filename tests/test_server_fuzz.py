"""Property-based fuzzing of every route (needs hypothesis; skipped without it): any
request answers JSON, never a 500, and a refused request changes nothing."""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import tempfile
import threading

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from PIL import Image

from pool_profiles import pools, registry
from pool_profiles.server import ServerLimits
from pool_profiles.server.app import make_app
from pool_profiles.testing.spec import StoreSpec

hypothesis = pytest.importorskip("hypothesis")
st = pytest.importorskip("hypothesis.strategies")
from hypothesis import HealthCheck, given, settings  # noqa: E402

POOL = "pool-1"
LIMITS = ServerLimits(max_upload_bytes=20_000, max_import_bytes=30_000, max_json_bytes=4_000)
SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

JSON_ROUTES = [
    "/grid_pool/profiles/create",
    "/grid_pool/profiles/rename",
    "/grid_pool/profiles/delete",
    "/grid_pool/profiles/duplicate",
    "/grid_pool/remove",
    "/grid_pool/active",
    "/grid_pool/label",
    "/grid_pool/reorder",
    "/grid_pool/set_mask",
    "/grid_pool/stage_for_mask",
]
FORM_ROUTES = ["/grid_pool/add", "/grid_pool/set_mask", "/grid_pool/profiles/import"]
GET_ROUTES = [
    "/grid_pool/list",
    "/grid_pool/image",
    "/grid_pool/thumb",
    "/grid_pool/profiles/export",
    "/grid_pool/profiles/list",
    "/grid_pool/store_info",
]
FIELDS = ["pool_id", "index", "label", "order", "mask", "id", "name", "image", "file", "clear"]


def png(size: tuple[int, int] = (8, 6)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 10, 10)).save(buf, "PNG")
    return buf.getvalue()


class Server:
    """The standalone app on a loop in a thread, so hypothesis can drive it from sync
    code; each example gets a freshly seeded local store."""

    def __init__(self) -> None:
        self.store = None
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        app = make_app(self._get_store_proxy(), limits=LIMITS)
        self.server = TestServer(app, host="127.0.0.1")
        self.call(self.server.start_server())
        self.session = self.call(self._session())

    async def _session(self) -> ClientSession:
        return ClientSession()

    def _get_store_proxy(self):
        server = self

        class Proxy:  # make_app takes a Store; route calls go to the current one
            def __getattr__(self, name):
                return getattr(server.store, name)

        return Proxy()

    def call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    def request(self, method: str, path: str, **kw) -> tuple[int, str, dict]:
        async def go():
            async with self.session.request(method, self.server.make_url(path), **kw) as r:
                return r.status, await r.text(), dict(r.headers)

        return self.call(go())

    def seed(self, directory: str) -> None:
        self.store = StoreSpec(directory).open()
        pools.add_image(self.store, POOL, png(), label="first")
        pools.add_image(self.store, POOL, png((5, 5)))
        registry.create_profile(self.store, "keep")

    def snapshot(self) -> dict[str, bytes]:
        return {k: self.store.read_bytes(k) for k in self.store.walk("")}

    def close(self) -> None:
        self.call(self.session.close())
        self.call(self.server.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def server():
    s = Server()
    yield s
    s.close()


def check(server: Server, method: str, path: str, **kw) -> None:
    directory = tempfile.mkdtemp(prefix="pp-fuzz-")
    try:
        server.seed(directory)
        before = server.snapshot()
        status, text, headers = server.request(method, path, **kw)
        assert status < 500 or status in (501, 503), (status, text)
        if status >= 400:
            assert headers.get("Content-Type", "").startswith("application/json"), text
            if method != "HEAD":
                body = json.loads(text)
                assert set(body) == {"error", "code"} and body["error"] and body["code"]
            assert server.snapshot() == before
    finally:
        shutil.rmtree(directory, ignore_errors=True)


ids = st.one_of(
    st.sampled_from([POOL, "nope", "../x", "", "a/b", "x" * 65, "p\x00", "é"]),
    st.text(max_size=70),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=300),
    ids,
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)
keys = st.one_of(st.sampled_from(FIELDS), st.text(max_size=20))


@SETTINGS
@given(path=st.sampled_from(JSON_ROUTES), body=st.dictionaries(keys, values, max_size=6))
def test_fuzz_json_bodies(server, path, body):
    check(server, "POST", path, json=body)


@SETTINGS
@given(
    path=st.sampled_from(JSON_ROUTES),
    data=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
    ),
    ctype=st.sampled_from(["application/json", "application/json; charset=latin-1", "text/x"]),
)
def test_fuzz_raw_bodies(server, path, data, ctype):
    check(server, "POST", path, data=data, headers={"Content-Type": ctype})


@SETTINGS
@given(
    path=st.sampled_from(GET_ROUTES),
    query=st.lists(st.tuples(keys, st.one_of(ids, st.text(max_size=200))), max_size=4),
    method=st.sampled_from(["GET", "HEAD"]),
)
def test_fuzz_queries(server, path, query, method):
    check(server, method, path, params=query)


header_text = st.text(max_size=40).filter(lambda t: "\r" not in t and "\n" not in t)
parts = st.lists(
    st.tuples(
        st.one_of(st.sampled_from(FIELDS), header_text, st.just("x" * 5000)),
        st.one_of(st.binary(max_size=200), st.sampled_from([png(), b"PK\x03\x04"]), ids),
        st.one_of(st.none(), header_text),
        st.one_of(
            st.none(), st.sampled_from(["image/png", "text/plain", "x/y", "multipart/mixed"])
        ),
    ),
    max_size=5,
)


def multipart(fields, boundary: str = "fuzzBOUNDARYfuzz") -> bytes:
    """Built by hand: the client library refuses some of what a hostile client sends."""
    out = bytearray()
    for name, value, filename, ctype in fields:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode("utf-8", "replace")
        if ctype:
            out += f"Content-Type: {ctype}\r\n".encode()
        out += b"\r\n"
        out += value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
        out += b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out)


@SETTINGS
@given(path=st.sampled_from(FORM_ROUTES), fields=parts)
def test_fuzz_multipart(server, path, fields):
    headers = {"Content-Type": "multipart/form-data; boundary=fuzzBOUNDARYfuzz"}
    check(server, "POST", path, data=multipart(fields), headers=headers)
