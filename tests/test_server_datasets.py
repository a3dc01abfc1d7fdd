"""The profile routes with datasets: GET/HEAD /grid_pool/profiles/export?format=dataset
streams the trainer layout as a zip; POST /grid_pool/profiles/import tells a dataset zip
from a profile zip and answers with what it skipped; errors are JSON."""

from __future__ import annotations

import io
import zipfile

import pytest
from aiohttp import FormData
from PIL import Image

from pool_profiles import pools, registry

pytestmark = pytest.mark.asyncio


def png(color=(200, 0, 0), size=(24, 16)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def mask_png(size=(24, 16)) -> bytes:
    buf = io.BytesIO()
    Image.new("L", size, 255).save(buf, "PNG")
    return buf.getvalue()


def zip_bytes(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members:
            zf.writestr(zipfile.ZipInfo(name), data)
    return buf.getvalue()


def seeded(store) -> str:
    pid = registry.create_profile(store, "Set")["id"]
    pools.add_image(store, pid, png((255, 0, 0)), label="first")
    pools.add_image(store, pid, png((0, 255, 0)))
    pools.set_mask(store, pid, 1, mask_png())
    return pid


async def upload(client, data: bytes, filename: str = "upload.zip"):
    form = FormData(quote_fields=False)  # the file name as a browser sends it
    form.add_field("file", data, filename=filename, content_type="application/zip")
    return await client.post("/grid_pool/profiles/import", data=form)


async def test_export_a_dataset_zip(client, store):
    pid = seeded(store)
    resp = await client.get("/grid_pool/profiles/export", params={"id": pid, "format": "dataset"})
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "application/zip"
    assert 'filename="Set dataset.zip"' in resp.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(await resp.read())) as zf:
        assert sorted(zf.namelist()) == [
            "0000.png",
            "0000.txt",
            "0001.png",
            "0001.txt",
            "masks/0001.png",
        ]
        assert zf.read("0000.txt") == b"first"
    head = await client.head("/grid_pool/profiles/export", params={"id": pid, "format": "dataset"})
    assert head.status == 200 and "dataset" in head.headers["Content-Disposition"]
    # The profile zip stays the default.
    resp = await client.get("/grid_pool/profiles/export", params={"id": pid})
    with zipfile.ZipFile(io.BytesIO(await resp.read())) as zf:
        assert "profile_meta.json" in zf.namelist()


@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_export_errors_are_json(client, store, method):
    pid = seeded(store)
    resp = await client.request(
        method, "/grid_pool/profiles/export", params={"id": pid, "format": "tar"}
    )
    assert resp.status == 400
    if method == "GET":
        body = await resp.json()
        assert "format 'tar'" in body["error"] and body["code"]
    resp = await client.request(
        method, "/grid_pool/profiles/export", params={"id": "nope", "format": "dataset"}
    )
    assert resp.status == 404


async def test_import_a_dataset_zip_lists_what_it_skipped(client, store):
    data = zip_bytes(
        [
            ("a.png", png()),
            ("a.txt", b"a caption"),
            ("masks/a.png", mask_png(size=(5, 5))),
            ("b.jpg", b"not a jpeg"),
            ("notes.md", b"hello"),
        ]
    )
    resp = await upload(client, data, "Holiday.zip")
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["name"] == "Holiday" and body["format"] == "dataset"
    assert (body["images"], body["labels"], body["masks"]) == (1, 1, 0)
    reasons = {s["name"]: s["reason"] for s in body["skipped"]}
    assert reasons["masks/a.png"] == "mask is 5x5, its image 24x16"
    assert reasons["notes.md"] == "not an image or a caption (.md)"
    assert "b.jpg" in reasons
    assert registry.get_profile(store, body["id"])["name"] == "Holiday"
    assert pools.read_manifest(store, body["id"])["slots"][0]["label"] == "a caption"


async def test_export_then_import_through_the_routes(client, store):
    pid = seeded(store)
    resp = await client.get("/grid_pool/profiles/export", params={"id": pid, "format": "dataset"})
    resp = await upload(client, await resp.read(), "Set dataset.zip")
    body = await resp.json()
    assert resp.status == 200 and body["skipped"] == [] and body["masks"] == 1
    assert body["name"] == "Set dataset"
    # A profile zip through the same route is still a profile zip.
    resp = await client.get("/grid_pool/profiles/export", params={"id": pid})
    resp = await upload(client, await resp.read())
    body = await resp.json()
    assert resp.status == 200 and body["format"] == "profile" and body["name"] == "Set (2)"


@pytest.mark.parametrize(
    "data",
    [
        zip_bytes([("a.png", png()), ("../up.png", png())]),
        zip_bytes([("notes.md", b"no images at all")]),
        b"PK\x03\x04 not a zip",
    ],
)
async def test_bad_dataset_zips_are_json_errors_and_change_nothing(client, store, data):
    before = registry.list_profiles(store)
    keys = store.walk("")
    resp = await upload(client, data)
    assert resp.status == 400
    body = await resp.json()
    assert body["error"] and body["code"]
    assert registry.list_profiles(store) == before
    assert store.walk("") == keys
