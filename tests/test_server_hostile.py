"""Hostile input on every route: bad ids, traversal, oversized and malformed bodies,
non-images, bad zips. Each gets a 4xx JSON error and leaves the store unchanged."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
import pytest_asyncio
from aiohttp import FormData, web
from PIL import Image

from pool_profiles.errors import ConfigError
from pool_profiles.server import ServerLimits, add_routes
from pool_profiles.server.app import make_app

pytestmark = pytest.mark.asyncio

POOL = "pool-1"
LIMITS = ServerLimits(max_upload_bytes=20_000, max_import_bytes=30_000, max_json_bytes=2_000)
BAD_IDS = ["../x", "..", "a/b", "", "x" * 65, "a b", "a.b", "%2e%2e", "é"]


def png(size: tuple[int, int] = (8, 6)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 10, 10)).save(buf, "PNG")
    return buf.getvalue()


def form(**fields: object) -> FormData:
    out = FormData(default_to_multipart=True)
    for name, value in fields.items():
        if isinstance(value, bytes):
            out.add_field(name, value, filename=f"{name}.bin", content_type="image/png")
        else:
            out.add_field(name, str(value))
    return out


def zip_of(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest_asyncio.fixture
async def client(aiohttp_client, store):
    client = await aiohttp_client(make_app(store, limits=LIMITS))
    resp = await client.post("/grid_pool/add", data=form(pool_id=POOL, image=png()))
    assert resp.status == 200
    resp = await client.post("/grid_pool/profiles/create", json={"name": "keep"})
    assert resp.status == 200
    return client


async def refused(resp, status: int | tuple[int, ...] = 400) -> dict:
    statuses = (status,) if isinstance(status, int) else status
    text = await resp.text()
    assert resp.status in statuses, text
    assert resp.headers["Content-Type"].startswith("application/json")
    body = json.loads(text)
    assert set(body) == {"error", "code"} and body["error"] and body["code"]
    assert "Traceback" not in text
    return body


@pytest_asyncio.fixture
async def unchanged(client, store):  # after `client` has seeded the store
    before = {k: store.read_bytes(k) for k in store.walk("")}
    yield
    after = {k: store.read_bytes(k) for k in store.walk("")}
    assert after == before


@pytest.mark.usefixtures("unchanged")
async def test_bad_pool_ids_everywhere(client):
    for bad in BAD_IDS:
        await refused(await client.get("/grid_pool/list", params={"pool_id": bad}))
        await refused(await client.post("/grid_pool/add", data=form(pool_id=bad, image=png())))
        for path in ("/grid_pool/remove", "/grid_pool/active", "/grid_pool/stage_for_mask"):
            await refused(await client.post(path, json={"pool_id": bad, "index": 0}))
        body = {"pool_id": bad, "index": 0, "label": "x"}
        await refused(await client.post("/grid_pool/label", json=body))
        await refused(await client.post("/grid_pool/reorder", json={"pool_id": bad, "order": [0]}))
        await refused(
            await client.post("/grid_pool/set_mask", data=form(pool_id=bad, index=0, mask=png()))
        )
    for bad in [5, None, ["x"], {"a": 1}, True]:
        await refused(await client.post("/grid_pool/remove", json={"pool_id": bad, "index": 0}))


@pytest.mark.usefixtures("unchanged")
async def test_bad_profile_ids_everywhere(client):
    for bad in [*BAD_IDS, 7, None]:
        body = {"id": bad, "name": "n"}
        for path in ("rename", "delete", "duplicate"):
            await refused(await client.post(f"/grid_pool/profiles/{path}", json=body))
        if isinstance(bad, str):
            resp = await client.get("/grid_pool/profiles/export", params={"id": bad})
            assert (await refused(resp))["code"] == "bad_id"


@pytest.mark.usefixtures("unchanged")
async def test_traversal_in_blob_routes(client):
    names = [
        "../../etc/passwd",
        "../manifest.json",
        "manifest.json",
        "thumbs/x.png",
        "..png",
        "/etc/passwd",
        "a/../../x.png",
        "x.png\x00.txt",
        "",
    ]
    for route in ("image", "thumb"):
        for name in names:
            resp = await client.get(f"/grid_pool/{route}", params={"pool_id": POOL, "name": name})
            await refused(resp)
        resp = await client.get(f"/grid_pool/{route}", params={"pool_id": "../x", "name": "a.png"})
        await refused(resp)
        resp = await client.get(f"/grid_pool/{route}?pool_id=..%2f..%2fx&name=..%2fa.png")
        await refused(resp)
        await refused(await client.get(f"/grid_pool/{route}", params={"pool_id": POOL}))
    await refused(await client.get("/grid_pool/list"))


@pytest.mark.usefixtures("unchanged")
async def test_malformed_json_bodies(client):
    cases = [
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'"text"', "application/json", 400),
        (b"\xff\xfe", "application/json", 400),
        (b"", "application/json", 400),
        (b'{"pool_id": "pool-1", "index": 0}', "text/plain", 415),
        (b"pool_id=pool-1&index=0", "application/x-www-form-urlencoded", 415),
    ]
    for path in ("/grid_pool/remove", "/grid_pool/profiles/create", "/grid_pool/stage_for_mask"):
        for data, ctype, status in cases:
            resp = await client.post(path, data=data, headers={"Content-Type": ctype})
            await refused(resp, status)


@pytest.mark.usefixtures("unchanged")
async def test_json_the_parser_accepts_but_nothing_can_store(client):
    # Valid JSON text that still cannot be used: an int past Python's digit limit,
    # nesting past the recursion limit, a lone UTF-16 surrogate (not encodable).
    cases = [
        ("/grid_pool/remove", b'{"pool_id": "pool-1", "index": ' + b"1" * 5000 + b"}"),
        ("/grid_pool/remove", b'{"pool_id": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
        ("/grid_pool/profiles/create", b'{"name": "a\\ud800b"}'),
        ("/grid_pool/label", b'{"pool_id": "pool-1", "index": 0, "label": "\\udfff"}'),
    ]
    for path, data in cases:
        resp = await client.post(path, data=data, headers={"Content-Type": "application/json"})
        await refused(resp, (400, 413))


@pytest.mark.usefixtures("unchanged")
async def test_missing_and_mistyped_fields(client):
    bad_bodies = [
        ("/grid_pool/remove", {"pool_id": POOL}),
        ("/grid_pool/remove", {"index": 0}),
        ("/grid_pool/remove", {"pool_id": POOL, "index": "x"}),
        ("/grid_pool/remove", {"pool_id": POOL, "index": True}),
        ("/grid_pool/remove", {"pool_id": POOL, "index": 1.5}),
        ("/grid_pool/remove", {"pool_id": POOL, "index": -1}),
        ("/grid_pool/remove", {"pool_id": POOL, "index": 10**30}),
        ("/grid_pool/remove", {"pool_id": POOL, "index": 7}),  # out of range
        ("/grid_pool/active", {"pool_id": POOL, "index": 3}),
        ("/grid_pool/label", {"pool_id": POOL, "index": 0, "label": 5}),
        ("/grid_pool/label", {"pool_id": POOL, "index": 0, "label": "a\x00b"}),
        ("/grid_pool/label", {"pool_id": POOL, "index": 0, "label": "x" * 201}),
        ("/grid_pool/reorder", {"pool_id": POOL, "order": "01"}),
        ("/grid_pool/reorder", {"pool_id": POOL, "order": [0, 0]}),
        ("/grid_pool/reorder", {"pool_id": POOL, "order": [1]}),
        ("/grid_pool/reorder", {"pool_id": POOL, "order": [None]}),
        ("/grid_pool/set_mask", {"pool_id": POOL, "index": 0, "mask": "AAAA"}),
        ("/grid_pool/profiles/create", {}),
        ("/grid_pool/profiles/create", {"name": ""}),
        ("/grid_pool/profiles/create", {"name": 5}),
        ("/grid_pool/profiles/create", {"name": "a\nb"}),
        ("/grid_pool/profiles/create", {"name": "x" * 101}),
        ("/grid_pool/profiles/create", {"name": "KEEP"}),  # taken (409)
        ("/grid_pool/profiles/rename", {"id": "abc"}),
        ("/grid_pool/profiles/duplicate", {"name": "x"}),
    ]
    for path, body in bad_bodies:
        await refused(await client.post(path, json=body), (400, 404, 409))
    # unknown pools: nothing to change
    await refused(await client.post("/grid_pool/remove", json={"pool_id": "nope", "index": 0}), 404)


@pytest.mark.usefixtures("unchanged")
async def test_oversized_bodies(client):
    big = png((400, 400)) + b"\0" * 30_000  # past max_upload_bytes
    resp = await client.post("/grid_pool/add", data=form(pool_id=POOL, image=big))
    assert (await refused(resp, 413))["code"] == "too_large"
    resp = await client.post("/grid_pool/set_mask", data=form(pool_id=POOL, index=0, mask=big))
    await refused(resp, 413)
    resp = await client.post("/grid_pool/profiles/import", data=form(file=b"PK" + b"\0" * 40_000))
    await refused(resp, 413)
    resp = await client.post("/grid_pool/profiles/create", json={"name": "x" * 5_000})
    await refused(resp, 413)
    resp = await client.post("/grid_pool/add", data=form(pool_id=POOL, label="x" * 20_000))
    await refused(resp, 413)


async def _chunked(data: bytes, size: int = 4096):
    for i in range(0, len(data), size):
        yield data[i : i + size]


@pytest.mark.usefixtures("unchanged")
async def test_oversized_streams_without_content_length(client):
    # No Content-Length: only our own byte counting can stop these.
    boundary = "xBOUNDARYx"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="pool_id"\r\n\r\n{POOL}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    body = head + b"\0" * 200_000 + f"\r\n--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    resp = await client.post("/grid_pool/add", data=_chunked(body), headers=headers)
    await refused(resp, 413)
    resp = await client.post(
        "/grid_pool/profiles/create",
        data=_chunked(b'{"name": "' + b"x" * 10_000 + b'"}'),
        headers={"Content-Type": "application/json"},
    )
    await refused(resp, 413)


@pytest.mark.usefixtures("unchanged")
async def test_malformed_multipart(client):
    cases = [
        ("multipart/form-data", b"garbage"),
        ("multipart/form-data; boundary=zz", b"garbage without boundary"),
        ("multipart/form-data; boundary=zz", b"--zz\r\nno headers end"),
        ("multipart/form-data; boundary=zz", b"--zz\r\nContent-Disposition: form-data\r\n\r\nx"),
        ("application/octet-stream", png()),
        ("application/json", b'{"pool_id": "pool-1"}'),
    ]
    for path in ("/grid_pool/add", "/grid_pool/profiles/import"):
        for ctype, data in cases:
            resp = await client.post(path, data=data, headers={"Content-Type": ctype})
            await refused(resp, (400, 415))
    # Missing, unknown and repeated fields.
    await refused(await client.post("/grid_pool/add", data=form(pool_id=POOL)))
    await refused(await client.post("/grid_pool/add", data=form(image=png())))
    await refused(await client.post("/grid_pool/add", data=form(pool_id=POOL, image=png(), x="1")))
    repeated = FormData()
    repeated.add_field("pool_id", POOL)
    repeated.add_field("pool_id", "other")
    repeated.add_field("image", png(), filename="a.png")
    await refused(await client.post("/grid_pool/add", data=repeated))
    await refused(await client.post("/grid_pool/profiles/import", data=form(name="only name")))
    await refused(await client.post("/grid_pool/set_mask", data=form(pool_id=POOL, index=0)))
    await refused(
        await client.post("/grid_pool/set_mask", data=form(pool_id=POOL, index="x", mask=png()))
    )


@pytest.mark.usefixtures("unchanged")
async def test_non_images(client):
    for data in [b"", b"not an image", b"\x89PNG\r\n\x1a\n" + b"\0" * 50, b"GIF89a", b"<svg/>"]:
        resp = await client.post("/grid_pool/add", data=form(pool_id=POOL, image=data))
        await refused(resp)
        resp = await client.post("/grid_pool/set_mask", data=form(pool_id=POOL, index=0, mask=data))
        await refused(resp)


@pytest.mark.usefixtures("unchanged")
async def test_bad_zips(client):
    manifest = json.dumps({"active": 0, "next_seq": 2, "slots": [{"image": "../../x.png"}]})
    cases = [
        b"not a zip at all",
        b"PK\x03\x04" + b"\0" * 100,
        zip_of({"profile_meta.json": b'{"name": "x"}', "pool/../../evil.png": png()}),
        zip_of({"profile_meta.json": b'{"name": "x"}', "/abs/evil.png": png()}),
        zip_of({"profile_meta.json": b'{"name": "x"}', "pool/img_1.png": b"not an image"}),
        zip_of({"profile_meta.json": b"{broken", "pool/img_1.png": png()}),
        zip_of({"pool/manifest.json": manifest.encode(), "pool/img_1.png": png()}),
        zip_of({"pool/img_1.png": png(), "pool/thumbs/../../../x.png": png()}),
    ]
    for data in cases:
        resp = await client.post("/grid_pool/profiles/import", data=form(file=data))
        await refused(resp, (400, 413))
    good = zip_of({"profile_meta.json": b'{"name": "x"}', "pool/img_1.png": png()})
    resp = await client.post("/grid_pool/profiles/import", data=form(file=good, name="a\x00b"))
    await refused(resp)


async def test_unexpected_errors_are_json_500_without_traceback(aiohttp_client, caplog):
    def broken_store():
        raise RuntimeError("secret internals /etc/somewhere")

    def unconfigured():
        raise ConfigError("the store is not reachable")

    for get_store, status in [(broken_store, 500), (unconfigured, 503)]:
        routes = web.RouteTableDef()
        add_routes(routes, get_store)
        app = web.Application()
        app.add_routes(routes)
        client = await aiohttp_client(app)
        body = await refused(await client.get("/grid_pool/profiles/list"), status)
        assert "secret internals" not in body["error"]
        assert body["code"] == ("internal" if status == 500 else "config")
    assert "secret internals" in caplog.text  # the details go to the server log


async def test_cross_origin_writes_and_foreign_hosts_are_refused(aiohttp_client, store):
    client = await aiohttp_client(make_app(store, loopback_only=True))
    resp = await client.post(
        "/grid_pool/profiles/create",
        json={"name": "x"},
        headers={"Origin": "http://evil.example"},
    )
    assert (await refused(resp, 403))["code"] == "forbidden_origin"
    resp = await client.get("/grid_pool/profiles/list", headers={"Host": "evil.example:8189"})
    assert (await refused(resp, 403))["code"] == "forbidden_host"
    assert store.walk("") == []
    same = f"http://{client.host}:{client.port}"
    resp = await client.post(
        "/grid_pool/profiles/create", json={"name": "x"}, headers={"Origin": same}
    )
    assert resp.status == 200


async def test_writes_from_an_opaque_origin_are_refused(aiohttp_client, store):
    # A sandboxed iframe or a data: URL on any web page sends "Origin: null"; a
    # multipart POST needs no CORS preflight, so it would reach the store.
    client = await aiohttp_client(make_app(store, loopback_only=True))
    headers = {"Origin": "null"}
    resp = await client.post(
        "/grid_pool/add", data=form(pool_id=POOL, image=png()), headers=headers
    )
    assert (await refused(resp, 403))["code"] == "forbidden_origin"
    good = zip_of({"profile_meta.json": b'{"name": "x"}', "pool/img_1.png": png()})
    resp = await client.post("/grid_pool/profiles/import", data=form(file=good), headers=headers)
    await refused(resp, 403)
    assert store.walk("") == []
    assert (await client.get("/grid_pool/profiles/list", headers=headers)).status == 200


async def test_the_page_is_served(aiohttp_client, store):
    client = await aiohttp_client(make_app(store))
    resp = await client.get("/")
    assert resp.status == 200 and "Pool Profiles" in await resp.text()
    for asset in ("app.js", "style.css"):
        assert (await client.get(f"/static/{asset}")).status == 200
    assert (await client.get("/static/../server/app.py")).status in (403, 404)


async def test_unknown_routes_and_methods_answer_json(aiohttp_client, store):
    client = await aiohttp_client(make_app(store))
    assert (await refused(await client.get("/grid_pool/nothing"), 404))["code"] == "not_found"
    resp = await client.get("/grid_pool/profiles/create")
    assert (await refused(resp, 405))["code"] == "method_not_allowed"
