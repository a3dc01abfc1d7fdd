"""ETag / If-None-Match on the list routes, on every backend: a poll of an unchanged
pool or registry is a 304 that builds no view, and any change (through the routes or
by another writer on the store) is a 200 with a new tag."""

from __future__ import annotations

import pytest
from aiohttp import FormData
from images import png

from pool_profiles import pools, registry
from pool_profiles.blobs import manifest_key
from pool_profiles.server.conditional import hits

POOL = "pool-1"


async def get_pool(client, etag=None, pool_id=POOL):
    headers = {"If-None-Match": etag} if etag else {}
    return await client.get("/grid_pool/list", params={"pool_id": pool_id}, headers=headers)


def test_store_version_matches_read_versioned(store):
    assert store.version("a/doc.json") is None
    store.write_bytes("a/doc.json", b"{}")
    assert store.version("a/doc.json") == store.read_versioned("a/doc.json").version
    store.update_json("a/doc.json", lambda d: d.update(x=1))
    assert store.version("a/doc.json") == store.read_versioned("a/doc.json").version


@pytest.mark.asyncio
async def test_pool_list_answers_304_until_the_pool_changes(client, store):
    pools.add_image(store, POOL, png())
    first = await get_pool(client)
    assert first.status == 200
    etag = first.headers["ETag"]
    assert (await first.json())["count"] == 1

    again = await get_pool(client, etag)
    assert again.status == 304
    assert again.headers["ETag"] == etag
    assert await again.read() == b""

    # a change through the routes
    resp = await client.post("/grid_pool/label", json={"pool_id": POOL, "index": 0, "label": "x"})
    assert resp.status == 200
    changed = await get_pool(client, etag)
    assert changed.status == 200
    assert (await changed.json())["slots"][0]["label"] == "x"
    etag2 = changed.headers["ETag"]
    assert etag2 != etag

    # a change by another writer on the same store (another instance, the CLI)
    pools.add_image(store, POOL, png((0, 0, 255)))
    other = await get_pool(client, etag2)
    assert other.status == 200
    assert (await other.json())["count"] == 2
    assert (await get_pool(client, other.headers["ETag"])).status == 304


@pytest.mark.asyncio
async def test_a_304_builds_no_view_and_reads_no_document(client, store, monkeypatch):
    pools.add_image(store, POOL, png())
    etag = (await get_pool(client)).headers["ETag"]

    def forbidden(*args, **kwargs):
        raise AssertionError("a 304 must not read the manifest")

    monkeypatch.setattr(pools, "pool_view", forbidden)
    monkeypatch.setattr(pools, "view_of", forbidden)
    if type(store).__name__ == "S3Store":  # S3 asks with one HEAD, not a GET
        monkeypatch.setattr(type(store), "_read_versioned", forbidden)
    assert (await get_pool(client, etag)).status == 304


@pytest.mark.asyncio
async def test_unknown_pool_says_so_and_is_conditional_too(client, store):
    first = await get_pool(client)
    assert first.status == 200
    assert (await first.json())["exists"] is False
    assert (await get_pool(client, first.headers["ETag"])).status == 304
    pools.add_image(store, POOL, png())
    after = await get_pool(client, first.headers["ETag"])
    assert after.status == 200
    assert (await after.json())["exists"] is True


@pytest.mark.asyncio
async def test_an_empty_profile_pool_exists(client, store):
    prof = registry.create_profile(store, "Empty one")
    view = await (await get_pool(client, pool_id=prof["id"])).json()
    assert view["count"] == 0 and view["exists"] is True


@pytest.mark.asyncio
async def test_earlier_pack_pool_without_manifest_gets_a_tag(client, store):
    pools.add_image(store, POOL, png())
    store.delete(manifest_key(POOL))  # blobs only, as the earlier pack could leave them
    first = await get_pool(client)
    assert (await first.json())["count"] == 1
    assert (await get_pool(client, first.headers["ETag"])).status == 304


@pytest.mark.asyncio
async def test_profiles_list_answers_304_until_the_registry_changes(client, store):
    first = await client.get("/grid_pool/profiles/list")
    assert first.status == 200 and (await first.json()) == {"profiles": []}
    inm = {"If-None-Match": first.headers["ETag"]}
    assert (await client.get("/grid_pool/profiles/list", headers=inm)).status == 304

    registry.create_profile(store, "Made elsewhere")  # e.g. the CLI
    second = await client.get("/grid_pool/profiles/list", headers=inm)
    assert second.status == 200
    assert [p["name"] for p in (await second.json())["profiles"]] == ["Made elsewhere"]
    inm = {"If-None-Match": second.headers["ETag"]}
    assert (await client.get("/grid_pool/profiles/list", headers=inm)).status == 304

    resp = await client.post("/grid_pool/profiles/create", json={"name": "Via route"})
    assert resp.status == 200
    third = await client.get("/grid_pool/profiles/list", headers=inm)
    assert third.status == 200 and len((await third.json())["profiles"]) == 2


@pytest.mark.asyncio
async def test_add_route_changes_the_tag(client):
    etag = (await get_pool(client)).headers["ETag"]
    form = FormData()
    form.add_field("pool_id", POOL)
    form.add_field("image", png(), filename="x.png", content_type="image/png")
    assert (await client.post("/grid_pool/add", data=form)).status == 200
    assert (await get_pool(client, etag)).status == 200


@pytest.mark.asyncio
async def test_bad_pool_id_is_still_a_400(client):
    resp = await get_pool(client, 'W/"abc"', pool_id="../x")
    assert resp.status == 400


def test_if_none_match_parsing():
    tag = 'W/"abc"'
    assert hits('W/"abc"', tag)
    assert hits('"abc"', tag)
    assert hits('"x", W/"abc"', tag)
    assert hits("*", tag)
    assert not hits('"abd"', tag)
    assert not hits(None, tag)
    assert not hits("", tag)


@pytest.mark.asyncio
async def test_a_full_get_of_an_unchanged_pool_builds_no_view(client, store, monkeypatch):
    pools.add_image(store, POOL, png())
    first = await get_pool(client)
    body = await first.read()

    def forbidden(*args, **kwargs):
        raise AssertionError("an unchanged pool's view is not built again")

    monkeypatch.setattr(pools, "view_of", forbidden)
    again = await get_pool(client)  # no If-None-Match: a second browser, say
    assert again.status == 200 and await again.read() == body
    assert again.headers["ETag"] == first.headers["ETag"]


@pytest.mark.asyncio
async def test_an_unchanged_registry_is_listed_with_one_small_request(client, store, monkeypatch):
    registry.create_profile(store, "One")
    first = await client.get("/grid_pool/profiles/list")
    body = await first.read()
    calls: list[str] = []
    for name in ("read_versioned", "read_bytes", "version", "read_if_changed"):
        real = getattr(store, name)

        def spy(*args, _real=real, _name=name, **kw):
            calls.append(_name)
            return _real(*args, **kw)

        monkeypatch.setattr(store, name, spy)
    again = await client.get("/grid_pool/profiles/list")
    assert again.status == 200 and await again.read() == body
    assert calls == ["read_if_changed"]
    inm = {"If-None-Match": first.headers["ETag"]}
    assert (await client.get("/grid_pool/profiles/list", headers=inm)).status == 304
    assert calls == ["read_if_changed"] * 2


@pytest.mark.asyncio
async def test_a_damaged_registry_is_still_reported_by_the_list(client, store):
    registry.create_profile(store, "One")
    assert (await client.get("/grid_pool/profiles/list")).status == 200
    store.write_bytes(registry.REGISTRY_KEY, b'{"profiles": [')
    resp = await client.get("/grid_pool/profiles/list")
    assert resp.status >= 400 and (await resp.json())["code"]


def _view_cases():
    yield {"active": 0, "next_seq": 1, "slots": []}
    yield {
        "active": 1,
        "slots": [
            {"image": "img_0001_ab.png", "mask": None, "label": "", "added": 0},
            {"image": "img_0002_cd.png", "mask": "img_0002_cd.mask-1.png", "label": "é \u2028"},
            {"image": "a.png", "mask": "", "label": 'lone \ud800 "q" \\ \n', "added": 1.5},
            {"image": "b.png", "mask": None, "label": "x", "added": -0.0, "extra": [1]},
            {"image": "c.png", "mask": None, "label": "x", "added": 1e300},
            {"image": "d.png", "mask": None, "label": "x", "added": float("nan")},
            {"image": "e.png", "mask": None, "label": "x", "added": True},
            {"image": "f.png", "mask": None, "label": 5, "added": 10**20},
        ],
    }
    yield {"active": 99, "slots": [{"image": "z.png", "mask": None, "label": "", "added": 2}]}


@pytest.mark.parametrize("manifest", list(_view_cases()))
def test_encode_view_is_encode_body_of_view_of(manifest):
    from pool_profiles.server.conditional import encode_body, encode_view

    for extra in ({}, {"exists": True}, {"slot": {"index": 0, "image": "a.png"}}):
        expected = encode_body({**pools.view_of("p-1", manifest), **extra})
        assert encode_view("p-1", manifest, **extra) == expected
        assert encode_view("p-1", manifest, **extra) == expected  # from the memo


def test_encode_view_memo_tells_equal_numbers_of_other_types_apart():
    from pool_profiles.server.conditional import encode_body, encode_view

    for added in (1, 1.0, True, 0.0, -0.0, 0, 2.5):
        manifest = {
            "active": 0,
            "slots": [{"image": "a.png", "mask": None, "label": "", "added": added}],
        }
        assert encode_view("p", manifest) == encode_body(pools.view_of("p", manifest))


def test_encode_view_matches_on_random_manifests():
    hyp = pytest.importorskip("hypothesis")
    st = pytest.importorskip("hypothesis.strategies")
    from pool_profiles.server.conditional import encode_body, encode_view

    text = st.text(max_size=12)
    added = st.one_of(st.integers(), st.floats(allow_nan=True), st.booleans(), st.none())
    slot = st.fixed_dictionaries(
        {"image": text, "mask": st.one_of(st.none(), text), "label": text, "added": added}
    )

    @hyp.settings(max_examples=300, deadline=None)
    @hyp.given(st.lists(slot, max_size=6), st.integers(-2, 8))
    def check(slots, active):
        manifest = {"active": active, "slots": slots}
        assert encode_view("q", manifest) == encode_body(pools.view_of("q", manifest))

    check()
