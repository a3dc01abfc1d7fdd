"""The pool routes (/grid_pool/list, add, remove, active, label, reorder, set_mask,
image, thumb, stage_for_mask, store_info) through aiohttp on every backend."""

from __future__ import annotations

import io
import json

import pytest
from aiohttp import FormData
from images import png
from PIL import Image

from pool_profiles import pools
from pool_profiles.server.app import make_app

pytestmark = pytest.mark.asyncio

POOL = "pool-1"


def mask_png(size: tuple[int, int] = (8, 6)) -> bytes:
    buf = io.BytesIO()
    im = Image.new("L", size, 0)
    im.paste(255, (0, 0, size[0] // 2, size[1]))
    im.save(buf, "PNG")
    return buf.getvalue()


def image_form(pool_id: str, data: bytes, label: str | None = None) -> FormData:
    form = FormData()
    form.add_field("pool_id", pool_id)
    if label is not None:
        form.add_field("label", label)
    form.add_field("image", data, filename="x.png", content_type="image/png")
    return form


async def add(client, data: bytes, label: str | None = None, pool_id: str = POOL) -> dict:
    resp = await client.post("/grid_pool/add", data=image_form(pool_id, data, label))
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def post(client, path: str, body: dict, status: int = 200) -> dict:
    resp = await client.post(path, json=body)
    assert resp.status == status, await resp.text()
    return await resp.json()


async def test_list_of_an_unknown_pool_is_empty(client, store):
    resp = await client.get("/grid_pool/list", params={"pool_id": POOL})
    assert resp.status == 200
    assert resp.headers["Cache-Control"] == "no-cache"  # revalidated by ETag every time
    assert await resp.json() == {
        "pool_id": POOL,
        "active": 0,
        "count": 0,
        "slots": [],
        "exists": False,
    }
    assert store.walk("") == []  # reading never writes


async def test_add_label_active_reorder_remove(client, store):
    view = await add(client, png((255, 0, 0)))
    assert view["count"] == 1 and view["active"] == 0
    assert view["slot"]["index"] == 0
    view = await add(client, png((0, 255, 0)), label="green")
    assert view["count"] == 2 and view["active"] == 0  # an add keeps the active slot
    assert view["slots"][1]["label"] == "green"
    red, green = view["slots"][0]["image"], view["slots"][1]["image"]

    async def listing() -> dict:
        return await (await client.get("/grid_pool/list", params={"pool_id": POOL})).json()

    # Slot edits answer with the change, not the whole view.
    answer = await post(client, "/grid_pool/label", {"pool_id": POOL, "index": 0, "label": " red "})
    assert "version" in answer.pop("history")  # the history version this change wrote
    assert answer == {
        "pool_id": POOL,
        "change": "label",
        "active": 0,
        "count": 2,
        "index": 0,
        "image": red,  # the slot acted on, for a client to check its view
        "label": "red",
    }
    assert (await listing())["slots"][0]["label"] == "red"
    answer = await post(client, "/grid_pool/active", {"pool_id": POOL, "index": 1})
    answer.pop("history")
    assert answer == {
        "pool_id": POOL,
        "change": "active",
        "active": 1,
        "count": 2,
        "index": 1,
        "image": green,
    }
    answer = await post(client, "/grid_pool/active", {"pool_id": POOL, "index": 0})
    assert answer["active"] == 0
    answer = await post(client, "/grid_pool/reorder", {"pool_id": POOL, "order": [1, 0]})
    assert answer.pop("history")["description"] == "reordered slots"
    assert answer == {"pool_id": POOL, "change": "reorder", "active": 1, "count": 2}
    listed = await listing()
    assert [s["image"] for s in listed["slots"]] == [green, red]
    assert listed["active"] == 1  # the active slot follows its image
    assert listed.pop("exists") is True  # only the listing tells unknown ids apart

    answer = await post(client, "/grid_pool/remove", {"pool_id": POOL, "index": 1})
    assert answer.pop("history")["description"] == "removed slot 1 (“red”)"
    assert answer == {"pool_id": POOL, "change": "remove", "active": 0, "count": 1, "index": 1}
    assert [s["image"] for s in (await listing())["slots"]] == [green]
    # Its blob stays while history keeps the version that used it (undo brings it back).
    assert store.exists(pools.blob_key(POOL, red))


async def test_set_mask_and_clear(client, store):
    await add(client, png())
    form = FormData()
    form.add_field("pool_id", POOL)
    form.add_field("index", "0")
    form.add_field("mask", mask_png(), filename="mask.png", content_type="image/png")
    resp = await client.post("/grid_pool/set_mask", data=form)
    assert resp.status == 200, await resp.text()
    answer = await resp.json()
    assert answer["change"] == "mask" and answer["index"] == 0 and answer["has_mask"] is True
    mask_name = answer["mask"]

    resp = await client.get("/grid_pool/image", params={"pool_id": POOL, "name": mask_name})
    assert resp.status == 200
    with Image.open(io.BytesIO(await resp.read())) as m:
        assert m.mode == "L" and m.getpixel((0, 0)) == 255 and m.getpixel((7, 0)) == 0

    answer = await post(client, "/grid_pool/set_mask", {"pool_id": POOL, "index": 0, "mask": None})
    assert answer["has_mask"] is False and answer["mask"] is None
    assert store.exists(pools.blob_key(POOL, mask_name))  # kept for history's undo

    form = FormData(default_to_multipart=True)  # as a browser's FormData
    form.add_field("pool_id", POOL)
    form.add_field("index", "0")
    form.add_field("clear", "true")
    resp = await client.post("/grid_pool/set_mask", data=form)
    assert resp.status == 200 and (await resp.json())["mask"] is None


@pytest.mark.parametrize("route", ["image", "thumb"])
async def test_blob_bytes_with_immutable_caching(client, route):
    data = png((1, 2, 3), (40, 30))
    view = await add(client, data)
    name = view["slots"][0]["image"]
    params = {"pool_id": POOL, "name": name}
    resp = await client.get(f"/grid_pool/{route}", params=params)
    assert resp.status == 200
    body = await resp.read()
    etag = resp.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    if route == "image":
        assert body == data and resp.headers["Content-Type"] == "image/png"
    else:
        assert resp.headers["Content-Type"] == "image/webp"
        with Image.open(io.BytesIO(body)) as im:
            assert max(im.size) <= 256

    again = await client.get(f"/grid_pool/{route}", params=params, headers={"If-None-Match": etag})
    assert again.status == 304
    assert await again.read() == b""
    assert again.headers["ETag"] == etag
    other = await client.get(f"/grid_pool/{route}", params=params, headers={"If-None-Match": '"x"'})
    assert other.status == 200


async def test_missing_blob_is_404(client):
    await add(client, png())
    resp = await client.get("/grid_pool/image", params={"pool_id": POOL, "name": "img_9_ab.png"})
    assert resp.status == 404
    assert (await resp.json())["code"] == "not_found"


async def test_stage_for_mask_without_stager_is_501(client):
    await add(client, png())
    body = await post(client, "/grid_pool/stage_for_mask", {"pool_id": POOL, "index": 0}, 501)
    assert body["code"] == "no_stager"


async def test_stage_for_mask_hands_image_and_mask_to_the_stager(aiohttp_client, store):
    staged: list[tuple[bytes, str]] = []

    def stage(data: bytes, filename: str) -> dict:
        staged.append((data, filename))
        return {"name": "staged.png", "subfolder": "grid_pool", "type": "input"}

    client = await aiohttp_client(make_app(store, stage_image=stage))
    data = png()
    await add(client, data)
    body = await post(client, "/grid_pool/stage_for_mask", {"pool_id": POOL, "index": 0})
    assert body["name"] == "staged.png" and body["subfolder"] == "grid_pool"
    assert body["type"] == "input" and body["index"] == 0
    assert staged[0][0] == data and staged[0][1].startswith(f"grid_pool_{POOL}_")

    form = FormData()
    form.add_field("pool_id", POOL)
    form.add_field("index", "0")
    form.add_field("mask", mask_png(), filename="m.png", content_type="image/png")
    assert (await client.post("/grid_pool/set_mask", data=form)).status == 200
    await post(client, "/grid_pool/stage_for_mask", {"pool_id": POOL, "index": 0})
    with Image.open(io.BytesIO(staged[1][0])) as im:
        # The MaskEditor reads the mask from alpha: painted (left half) is transparent.
        assert im.mode == "RGBA" and im.getpixel((0, 0))[3] == 0 and im.getpixel((7, 0))[3] == 255

    body = await post(client, "/grid_pool/stage_for_mask", {"pool_id": POOL, "index": 5}, 404)
    assert body["code"] == "no_slot"


async def test_store_info_has_no_secrets(client, store):
    resp = await client.get("/grid_pool/store_info")
    assert resp.status == 200
    info = await resp.json()
    assert info["backend"] == store.backend
    assert info["url"] == store.url
    assert set(info["capabilities"]) >= {"conditional_write", "atomic_replace"}
    assert info["single_writer"] is False
    text = json.dumps(info)
    assert "testing" not in text and "endpoint" not in text  # moto's fake key/secret


async def test_storage_and_pillow_never_run_on_the_event_loop(aiohttp_client, store, monkeypatch):
    import threading

    loop_thread = threading.current_thread()
    on_loop: list[str] = []
    calls: list[str] = []

    class Spy:
        def __getattr__(self, name: str):
            attr = getattr(store, name)
            if not callable(attr):
                return attr

            def call(*args, **kwargs):
                calls.append(name)
                if threading.current_thread() is loop_thread:
                    on_loop.append(f"store.{name}")
                return attr(*args, **kwargs)

            return call

    real_open = Image.open

    def spy_open(*args, **kwargs):
        if threading.current_thread() is loop_thread:
            on_loop.append("Image.open")
        return real_open(*args, **kwargs)

    monkeypatch.setattr(Image, "open", spy_open)
    client = await aiohttp_client(make_app(Spy(), stage_image=lambda d, f: {"name": "s.png"}))
    view = await add(client, png())
    name = view["slots"][0]["image"]
    for path in ("/grid_pool/label", "/grid_pool/active", "/grid_pool/stage_for_mask"):
        await post(client, path, {"pool_id": POOL, "index": 0, "label": "x"})
    form = FormData()
    form.add_field("pool_id", POOL)
    form.add_field("index", "0")
    form.add_field("mask", mask_png(), filename="m.png", content_type="image/png")
    assert (await client.post("/grid_pool/set_mask", data=form)).status == 200
    await post(client, "/grid_pool/stage_for_mask", {"pool_id": POOL, "index": 0})
    for route in ("image", "thumb"):
        resp = await client.get(f"/grid_pool/{route}", params={"pool_id": POOL, "name": name})
        assert resp.status == 200
    entry = await post(client, "/grid_pool/profiles/create", {"name": "p"})
    resp = await client.get("/grid_pool/profiles/export", params={"id": entry["id"]})
    zipped = await resp.read()
    form = FormData()
    form.add_field("file", zipped, filename="p.zip")
    assert (await client.post("/grid_pool/profiles/import", data=form)).status == 200
    assert (await client.get("/grid_pool/store_info")).status == 200
    assert on_loop == []
    assert "update_json" in calls and "read_bytes" in calls  # the spy did see the work


async def test_copy_fills_a_new_pool_and_refuses_a_used_one(client, store):
    await add(client, png(), label="one")
    await add(client, png((0, 255, 0)), label="two")
    view = await post(client, "/grid_pool/copy", {"source": POOL, "target": "pool-2"})
    assert view["pool_id"] == "pool-2" and view["count"] == 2
    assert [s["label"] for s in view["slots"]] == ["one", "two"]
    again = await post(client, "/grid_pool/copy", {"source": POOL, "target": "pool-2"}, 409)
    assert again["code"] == "target_not_empty"
    bad = await post(client, "/grid_pool/copy", {"source": POOL, "target": "../x"}, 400)
    assert bad["error"]
    missing = await post(client, "/grid_pool/copy", {"source": POOL}, 400)
    assert "target" in missing["error"]
    resp = await client.get("/grid_pool/list", params={"pool_id": POOL})
    assert (await resp.json())["count"] == 2
