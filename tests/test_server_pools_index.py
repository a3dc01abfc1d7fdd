"""The Pools overview (GET /grid_pool/pools, POST /grid_pool/pools/delete), the change
events every successful change announces (ComfyUI's websocket, the standalone page's
Server-Sent Events) and the small answers of slot edits."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp import FormData, web
from images import png

from pool_profiles import pool_index, pools, registry
from pool_profiles.errors import ConflictError, NotFoundError
from pool_profiles.server.app import make_app
from pool_profiles.server.events import event_for
from pool_profiles.server.routes import add_routes


def test_list_pools_names_profiles_and_node_pools(store):
    profile = registry.create_profile(store, "Zebra")
    registry.create_profile(store, "apples")  # no images yet: listed, empty
    for i in range(5):
        pools.add_image(store, profile["id"], png((i, 0, 0)))
    pools.add_image(store, "node-pool-1", png())
    listed = pool_index.list_pools(store)
    assert [(e["kind"], e["name"], e["count"]) for e in listed] == [
        ("profile", "apples", 0),
        ("profile", "Zebra", 5),
        ("pool", None, 1),
    ]
    zebra = listed[1]
    assert zebra["id"] == profile["id"] and zebra["bytes"] > 0
    assert len(zebra["preview"]) == pool_index.PREVIEW_SLOTS
    assert zebra["preview"][0] == pools.current_manifest(store, profile["id"])["slots"][0]["image"]
    assert listed[2]["id"] == "node-pool-1" and isinstance(listed[2]["changed"], float)


def test_a_damaged_pool_is_listed_with_its_error(store):
    pools.add_image(store, "good", png())
    pools.add_image(store, "bad", png())
    store.write_bytes("bad/manifest.json", b"{not json")
    listed = {e["id"]: e for e in pool_index.list_pools(store)}
    assert "error" not in listed["good"] and listed["good"]["count"] == 1
    assert listed["bad"]["error"]


def test_delete_pool_refuses_profiles_and_unknown_ids(store):
    profile = registry.create_profile(store, "Kept")
    pools.add_image(store, profile["id"], png())
    pools.add_image(store, "old-node", png())
    pools.add_image(store, "old-node", png((0, 1, 0)))
    with pytest.raises(ConflictError):
        pool_index.delete_pool(store, profile["id"])
    with pytest.raises(NotFoundError):
        pool_index.delete_pool(store, "nothing-here")
    gone = pool_index.delete_pool(store, "old-node")
    assert gone["deleted"] == "old-node" and gone["count"] == 2 and gone["bytes"] > 0
    assert store.walk("old-node") == []
    assert [e["id"] for e in pool_index.list_pools(store)] == [profile["id"]]


@pytest.mark.asyncio
async def test_routes_list_delete_and_json_errors(aiohttp_client, store):
    pools.add_image(store, "node-a", png())
    client = await aiohttp_client(make_app(store))
    resp = await client.get("/grid_pool/pools")
    assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
    assert [e["id"] for e in (await resp.json())["pools"]] == ["node-a"]
    for body, status, code in [
        ({"pool_id": "../x"}, 400, None),
        ({"pool_id": "missing"}, 404, "no_pool"),
    ]:
        resp = await client.post("/grid_pool/pools/delete", json=body)
        answer = await resp.json()
        assert resp.status == status and answer["error"]
        assert code is None or answer["code"] == code
    resp = await client.post("/grid_pool/pools/delete", json={"pool_id": "node-a"})
    assert resp.status == 200 and (await resp.json())["deleted"] == "node-a"


@pytest.mark.asyncio
async def test_every_change_is_announced_once_failures_are_not(aiohttp_client, store):
    events: list[dict] = []
    app = web.Application()
    routes = web.RouteTableDef()
    add_routes(routes, lambda: store, on_change=events.append)
    app.add_routes(routes)
    client = await aiohttp_client(app)

    form = FormData()
    form.add_field("pool_id", "p1")
    form.add_field("image", png(), filename="x.png", content_type="image/png")
    assert (await client.post("/grid_pool/add", data=form)).status == 200
    assert (
        await client.post("/grid_pool/active", json={"pool_id": "p1", "index": 0})
    ).status == 200
    assert (
        await client.post("/grid_pool/active", json={"pool_id": "p1", "index": 9})
    ).status == 400
    assert (await client.get("/grid_pool/list?pool_id=p1")).status == 200
    resp = await client.post("/grid_pool/profiles/create", json={"name": "Team"})
    pid = (await resp.json())["id"]
    assert (await client.post("/grid_pool/profiles/delete", json={"id": pid})).status == 200
    assert (await client.post("/grid_pool/pools/delete", json={"pool_id": "p1"})).status == 200
    assert [(e["kind"], e["pool_id"], e["route"]) for e in events] == [
        ("pool", "p1", "/grid_pool/add"),
        ("pool", "p1", "/grid_pool/active"),
        ("profiles", pid, "/grid_pool/profiles/create"),
        ("profiles", pid, "/grid_pool/profiles/delete"),
        ("pools", "p1", "/grid_pool/pools/delete"),
    ]


def test_event_for_reads_ids_only_from_the_answer_head():
    assert event_for("/grid_pool/stage_for_mask", b'{"pool_id":"a"}') is None
    assert event_for("/grid_pool/label", b'{"pool_id":"a","change":"label"}')["pool_id"] == "a"
    assert event_for("/grid_pool/label", b'{"pool_id":"../x"}')["pool_id"] is None
    assert event_for("/grid_pool/copy", None) == {
        "kind": "pool",
        "pool_id": None,
        "route": "/grid_pool/copy",
    }


@pytest.mark.asyncio
async def test_standalone_page_gets_changes_as_server_sent_events(aiohttp_client, store):
    client = await aiohttp_client(make_app(store))
    stream = await client.get("/grid_pool/events")
    assert stream.status == 200 and stream.headers["Content-Type"] == "text/event-stream"
    assert await stream.content.readline() == b": connected\n"
    await stream.content.readline()
    resp = await client.post("/grid_pool/profiles/create", json={"name": "Live"})
    assert resp.status == 200
    lines = [await asyncio.wait_for(stream.content.readline(), 5) for _ in range(2)]
    assert lines[0] == b"event: pool_profiles.changed\n"
    event = json.loads(lines[1].removeprefix(b"data: "))
    assert event["kind"] == "profiles" and event["pool_id"] == (await resp.json())["id"]
    stream.close()
