"""The history routes on every backend: each change names its version, undo (with and
without the version the page saw), restore, the deleted profiles, and JSON errors that
change nothing."""

from __future__ import annotations

import pytest
from aiohttp import FormData
from images import png

from pool_profiles import pools, registry

pytestmark = pytest.mark.asyncio

POOL = "hist-pool"


async def add(client, color, label):
    form = FormData()
    form.add_field("pool_id", POOL)
    form.add_field("label", label)
    form.add_field("image", png(color), filename="x.png", content_type="image/png")
    r = await client.post("/grid_pool/add", data=form)
    assert r.status == 200, await r.text()
    return await r.json()


async def error(response, status, code):
    assert response.status == status, await response.text()
    body = await response.json()
    assert body["code"] == code and body["error"]
    return body


async def test_changes_name_their_version_and_undo_takes_them_back(client, store):
    first = await add(client, (255, 0, 0), "front")
    assert first["history"]["description"] == "added slot 0 (“front”)"
    await add(client, (0, 255, 0), "back")
    r = await client.post("/grid_pool/remove", json={"pool_id": POOL, "index": 0})
    removed = await r.json()
    assert removed["count"] == 1 and removed["history"]["description"] == "removed slot 0 (“front”)"

    r = await client.get("/grid_pool/history", params={"pool_id": POOL})
    listing = await r.json()
    assert [v["description"] for v in listing["versions"]][0] == "removed slot 0 (“front”)"
    assert listing["max_versions"] == 50 and listing["max_days"] == 30
    assert listing["versions"][0]["version"] == removed["history"]["version"]

    r = await client.post(
        "/grid_pool/undo", json={"pool_id": POOL, "expect": removed["history"]["version"]}
    )
    assert r.status == 200, await r.text()
    view = await r.json()
    assert [s["label"] for s in view["slots"]] == ["front", "back"]
    assert view["undone"] == removed["history"]["version"]
    assert view["history"]["description"] == "undid: removed slot 0 (“front”)"
    # Ctrl+Z again, naming the undo it saw: further back.
    r = await client.post(
        "/grid_pool/undo", json={"pool_id": POOL, "expect": view["history"]["version"]}
    )
    again = await r.json()
    assert [s["label"] for s in again["slots"]] == ["front"]


async def test_a_stale_undo_is_refused_and_changes_nothing(client, store):
    await add(client, (1, 2, 3), "a")
    r = await client.post("/grid_pool/label", json={"pool_id": POOL, "index": 0, "label": "mine"})
    mine = (await r.json())["history"]["version"]
    pools.set_label(store, POOL, 0, "theirs")  # another instance on the same store
    r = await client.post("/grid_pool/undo", json={"pool_id": POOL, "expect": mine})
    body = await error(r, 409, "undo_stale")
    assert "nothing was undone" in body["error"]
    assert pools.read_manifest(store, POOL)["slots"][0]["label"] == "theirs"


async def test_restore_a_version(client, store):
    await add(client, (1, 2, 3), "a")
    await client.post("/grid_pool/label", json={"pool_id": POOL, "index": 0, "label": "b"})
    await client.post("/grid_pool/label", json={"pool_id": POOL, "index": 0, "label": "c"})
    versions = (await (await client.get(f"/grid_pool/history?pool_id={POOL}")).json())["versions"]
    before_b = versions[1]["version"]  # the state before "labelled slot 0 “b”"
    r = await client.post("/grid_pool/restore", json={"pool_id": POOL, "version": before_b})
    assert r.status == 200, await r.text()
    view = await r.json()
    assert view["slots"][0]["label"] == "a" and view["restored"] == before_b
    assert view["history"]["description"].startswith("restored the version before")


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/grid_pool/undo", {"pool_id": POOL}, 409, "nothing_to_undo"),
        ("/grid_pool/undo", {"pool_id": "../x"}, 400, "bad_id"),
        ("/grid_pool/undo", {"pool_id": POOL, "expect": "../../x"}, 400, "bad_version"),
        ("/grid_pool/restore", {"pool_id": POOL}, 400, "bad_request"),
        ("/grid_pool/restore", {"pool_id": POOL, "version": 7}, 400, "bad_version"),
        (
            "/grid_pool/restore",
            {"pool_id": POOL, "version": "1700000000000000-c-0123456789abcdef-abcdef"},
            404,
            "unknown_version",
        ),
        ("/grid_pool/profiles/restore", {"id": "nope"}, 404, "not_restorable"),
        ("/grid_pool/profiles/restore", {}, 400, "bad_request"),
    ],
)
async def test_bad_requests_are_one_json_error(client, store, path, body, status, code):
    r = await client.post(path, json=body)
    await error(r, status, code)
    assert store.walk(POOL) == []


async def test_history_query_errors(client):
    await error(await client.get("/grid_pool/history"), 400, "bad_request")
    r = await client.get("/grid_pool/history", params={"pool_id": POOL, "limit": "x"})
    await error(r, 400, "bad_request")
    r = await client.get("/grid_pool/history", params={"pool_id": POOL})
    assert (await r.json())["versions"] == []


async def test_deleted_profiles_route_and_restore(client, store):
    prof = registry.create_profile(store, "Kept")
    pools.add_image(store, prof["id"], png(), label="x")
    r = await client.post("/grid_pool/profiles/delete", json={"id": prof["id"]})
    assert r.status == 200
    deleted = (await (await client.get("/grid_pool/profiles/deleted")).json())["profiles"]
    assert [(d["id"], d["name"]) for d in deleted] == [(prof["id"], "Kept")]
    r = await client.post("/grid_pool/profiles/restore", json={"id": prof["id"]})
    assert r.status == 200, await r.text()
    assert (await r.json())["name"] == "Kept"
    listed = (await (await client.get("/grid_pool/profiles/list")).json())["profiles"]
    assert [p["id"] for p in listed] == [prof["id"]]
    assert pools.pool_view(store, prof["id"])["count"] == 1
    r = await client.post("/grid_pool/profiles/restore", json={"id": prof["id"]})
    await error(r, 409, "not_deleted")
