"""The profile routes (/grid_pool/profiles/*) through aiohttp on every backend, and two
`pool-profiles serve` processes sharing one S3 store."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import zipfile
from urllib.parse import unquote

import aiohttp
import pytest
from aiohttp import FormData
from PIL import Image

from pool_profiles.server.app import make_app

pytestmark = pytest.mark.asyncio


def png(color: tuple[int, int, int] = (255, 0, 0)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 6), color).save(buf, "PNG")
    return buf.getvalue()


def image_form(pool_id: str, data: bytes) -> FormData:
    form = FormData()
    form.add_field("pool_id", pool_id)
    form.add_field("image", data, filename="x.png", content_type="image/png")
    return form


async def post(client, path: str, body: dict, status: int = 200) -> dict:
    resp = await client.post(path, json=body)
    assert resp.status == status, await resp.text()
    return await resp.json()


async def listing(client) -> list[dict]:
    resp = await client.get("/grid_pool/profiles/list")
    assert resp.status == 200
    return (await resp.json())["profiles"]


async def test_create_rename_duplicate_delete(client, store):
    assert await listing(client) == []
    a = await post(client, "/grid_pool/profiles/create", {"name": "  Set A "})
    assert a["name"] == "Set A" and a["id"] and "created" in a
    assert [p["id"] for p in await listing(client)] == [a["id"]]

    taken = await post(client, "/grid_pool/profiles/create", {"name": "set a"}, 409)
    assert taken["code"] == "name_taken"

    renamed = await post(client, "/grid_pool/profiles/rename", {"id": a["id"], "name": "Set B"})
    assert renamed == {**a, "name": "Set B"}

    resp = await client.post("/grid_pool/add", data=image_form(a["id"], png()))
    assert resp.status == 200
    copy = await post(client, "/grid_pool/profiles/duplicate", {"id": a["id"], "name": "Copy"})
    assert copy["id"] != a["id"] and copy["name"] == "Copy"
    view = await (await client.get("/grid_pool/list", params={"pool_id": copy["id"]})).json()
    assert view["count"] == 1

    gone = await post(client, "/grid_pool/profiles/delete", {"id": a["id"]})
    assert gone["deleted"] == a["id"]
    assert [p["id"] for p in gone["profiles"]] == [copy["id"]]
    assert store.walk(a["id"])  # kept, restorable from "Recently deleted" (history)
    assert store.walk(copy["id"])  # the copy keeps its own bytes


async def test_unknown_profile_is_404(client):
    for path, body in [
        ("/grid_pool/profiles/rename", {"id": "nope", "name": "x"}),
        ("/grid_pool/profiles/delete", {"id": "nope"}),
        ("/grid_pool/profiles/duplicate", {"id": "nope", "name": "x"}),
    ]:
        assert (await post(client, path, body, 404))["code"] == "not_found"
    resp = await client.get("/grid_pool/profiles/export", params={"id": "nope"})
    assert resp.status == 404 and (await resp.json())["code"] == "not_found"


async def test_duplicate_of_a_corrupt_manifest_is_503_and_copies_nothing(client, store):
    src = await post(client, "/grid_pool/profiles/create", {"name": "Src"})
    resp = await client.post("/grid_pool/add", data=image_form(src["id"], png()))
    assert resp.status == 200
    store.write_bytes(f"{src['id']}/manifest.json", b'{"slots": [')
    body = await post(client, "/grid_pool/profiles/duplicate", {"id": src["id"], "name": "C"}, 503)
    assert body["code"] == "corrupt" and "manifest.json" in body["error"]
    assert [p["id"] for p in await listing(client)] == [src["id"]]
    kept = {src["id"], "profiles.json", "profiles.history"}
    assert {k.split("/", 1)[0] for k in store.walk("")} <= kept


async def test_export_streams_a_zip_with_a_safe_filename(client):
    name = 'Ünïcode 名前 "q"/\\;x'
    entry = await post(client, "/grid_pool/profiles/create", {"name": name})
    data = png((9, 9, 9))
    assert (await client.post("/grid_pool/add", data=image_form(entry["id"], data))).status == 200

    resp = await client.get("/grid_pool/profiles/export", params={"id": entry["id"]})
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "application/zip"
    disposition = resp.headers["Content-Disposition"]
    assert disposition.isascii()
    ascii_part = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert ascii_part.endswith(".zip") and not set(ascii_part) & set('"/\\;')
    assert unquote(disposition.split("filename*=UTF-8''", 1)[1]) == name + ".zip"

    with zipfile.ZipFile(io.BytesIO(await resp.read())) as zf:
        names = zf.namelist()
        assert json.loads(zf.read("profile_meta.json")) == {"name": name}
        manifest = json.loads(zf.read("pool/manifest.json"))
        image = manifest["slots"][0]["image"]
        assert zf.read(f"pool/{image}") == data
    assert "profile_meta.json" in names


async def test_head_of_an_export_sends_headers_only(client):
    entry = await post(client, "/grid_pool/profiles/create", {"name": "Heads"})
    assert (await client.post("/grid_pool/add", data=image_form(entry["id"], png()))).status == 200
    resp = await client.head("/grid_pool/profiles/export", params={"id": entry["id"]})
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "application/zip"
    assert "Heads.zip" in resp.headers["Content-Disposition"]
    resp = await client.head("/grid_pool/profiles/export", params={"id": "nope"})
    assert resp.status == 404
    # The same keep-alive connection still speaks HTTP: no zip bytes were left on it.
    assert (await client.get("/grid_pool/profiles/list")).status == 200


async def test_import_round_trip_with_and_without_name(client):
    entry = await post(client, "/grid_pool/profiles/create", {"name": "Trip"})
    await client.post("/grid_pool/add", data=image_form(entry["id"], png()))
    zipped = await (
        await client.get("/grid_pool/profiles/export", params={"id": entry["id"]})
    ).read()

    form = FormData()
    form.add_field("file", zipped, filename="Trip.zip", content_type="application/zip")
    resp = await client.post("/grid_pool/profiles/import", data=form)
    assert resp.status == 200, await resp.text()
    imported = await resp.json()
    assert imported["name"] == "Trip (2)" and imported["id"] != entry["id"]
    view = await (await client.get("/grid_pool/list", params={"pool_id": imported["id"]})).json()
    assert view["count"] == 1

    form = FormData()
    form.add_field("name", "Chosen")
    form.add_field("file", zipped, filename="Trip.zip", content_type="application/zip")
    resp = await client.post("/grid_pool/profiles/import", data=form)
    assert resp.status == 200 and (await resp.json())["name"] == "Chosen"
    assert len(await listing(client)) == 3


# -- two server processes on one S3 store --------------------------------------------


def _start_server(spec) -> tuple[subprocess.Popen, str]:
    code = "import sys; from pool_profiles.cli import main; sys.exit(main(sys.argv[1:]))"
    args = [sys.executable, "-c", code, "--store", spec.url]
    args += ["--store-options", json.dumps(spec.options), "serve", "--port", "0"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("POOL_PROFILES_")}
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    line = proc.stdout.readline()  # "pool-profiles: serving on http://127.0.0.1:PORT/ ..."
    if "serving on" not in line:
        proc.kill()
        raise AssertionError(f"server did not start: {line!r} {proc.stderr.read()!r}")
    return proc, line.split("serving on ", 1)[1].split()[0].rstrip("/")


async def test_two_serve_processes_on_one_s3_store_lose_nothing(s3_spec):
    servers = [_start_server(s3_spec) for _ in range(2)]
    try:
        urls = [url for _, url in servers]
        async with aiohttp.ClientSession() as session:

            async def call(url: str, path: str, **kw) -> dict:
                async with session.post(url + path, **kw) as resp:
                    assert resp.status == 200, await resp.text()
                    return await resp.json()

            creates = [
                call(urls[i % 2], "/grid_pool/profiles/create", json={"name": f"p{i}"})
                for i in range(12)
            ]
            adds = [
                call(urls[i % 2], "/grid_pool/add", data=image_form("shared", png((i, 0, 0))))
                for i in range(12)
            ]
            results = await asyncio.gather(*creates, *adds)
            async with session.get(urls[0] + "/grid_pool/profiles/list") as resp:
                names = {p["name"] for p in (await resp.json())["profiles"]}
            async with session.get(urls[1] + "/grid_pool/list?pool_id=shared") as resp:
                view = await resp.json()

        assert names == {f"p{i}" for i in range(12)}
        assert view["count"] == 12
        added = {r["slot"]["image"] for r in results[12:]}
        assert {s["image"] for s in view["slots"]} == added
    finally:
        for proc, _ in servers:
            proc.terminate()
        for proc, _ in servers:
            assert proc.wait(timeout=10) == 0
            proc.stdout.close()
            proc.stderr.close()


async def test_a_client_aborting_an_export_leaves_the_server_healthy(aiohttp_client, caplog):
    from pool_profiles import open_store, pools, registry

    store = open_store(f"memory://abort-{os.getpid()}-{id(caplog)}")
    entry = registry.create_profile(store, "big")
    for _ in range(4):  # incompressible: the zip outgrows the socket buffers
        buf = io.BytesIO()
        Image.frombytes("RGB", (500, 500), os.urandom(500 * 500 * 3)).save(buf, "PNG")
        pools.add_image(store, entry["id"], buf.getvalue())
    client = await aiohttp_client(make_app(store))
    for _ in range(3):
        resp = await client.get("/grid_pool/profiles/export", params={"id": entry["id"]})
        assert resp.status == 200
        await resp.content.read(1000)
        resp.close()
    await asyncio.sleep(0.2)
    resp = await client.get("/grid_pool/profiles/export", params={"id": entry["id"]})
    with zipfile.ZipFile(io.BytesIO(await resp.read())) as zf:
        assert zf.testzip() is None and len(zf.namelist()) == 6
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
