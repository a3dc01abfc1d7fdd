"""A slot edit names its slot by index and by the image the client saw there. When
another writer moved slots in between (a reorder, a remove), the edit acts on that
image wherever it is now, never on whatever slot took its index; an image that left
the pool is an error that changes nothing."""

from __future__ import annotations

import io

import pytest
from images import png
from PIL import Image

from pool_profiles import pools
from pool_profiles.errors import NotFoundError
from pool_profiles.server.app import make_app

P = "pool1"
A, B, C = 0, 1, 2  # where the client's view shows the slots


def labels(store) -> list[str]:
    return [s["label"] for s in pools.read_manifest(store, P)["slots"]]


@pytest.fixture
def seeded(store):
    """Slots a, b, c; returns their images as the client's view had them."""
    for i, label in enumerate("abc"):
        pools.add_image(store, P, png((i * 80, 0, 0)), label=label)
    return [s["image"] for s in pools.read_manifest(store, P)["slots"]]


def test_a_remove_after_another_writer_reordered_removes_the_image_the_client_saw(store, seeded):
    pools.reorder(store, P, [2, 0, 1])  # another instance: c, a, b
    found: dict[str, int] = {}
    pools.remove_slot(store, P, 0, expect=seeded[0], found=found)  # the client's "a"
    assert labels(store) == ["c", "b"] and found == {"index": 1}


def test_label_active_and_mask_follow_the_image(store, seeded):
    pools.reorder(store, P, [1, 2, 0])  # b, c, a
    pools.set_label(store, P, 0, "still a", expect=seeded[0])
    pools.set_active(store, P, 1, expect=seeded[1])

    buf = io.BytesIO()
    Image.new("L", (8, 6), 255).save(buf, "PNG")
    pools.set_mask(store, P, 2, buf.getvalue(), expect=seeded[2])
    doc = pools.read_manifest(store, P)
    assert [s["label"] for s in doc["slots"]] == ["b", "c", "still a"]
    assert doc["slots"][doc["active"]]["image"] == seeded[1]
    assert doc["slots"][1]["mask"] and not doc["slots"][0]["mask"]


def test_an_image_removed_meanwhile_is_an_error_that_changes_nothing(store, seeded):
    pools.remove_slot(store, P, 1)  # another instance removed "b"
    before = pools.read_manifest(store, P)
    for edit in (
        lambda: pools.remove_slot(store, P, 1, expect=seeded[1]),
        lambda: pools.set_label(store, P, 1, "x", expect=seeded[1]),
        lambda: pools.set_active(store, P, 1, expect=seeded[1]),
        lambda: pools.set_mask(store, P, 1, None, expect=seeded[1]),
    ):
        with pytest.raises(NotFoundError) as err:
            edit()
        assert err.value.code == "slot_gone"
    assert pools.read_manifest(store, P) == before


@pytest.mark.asyncio
async def test_the_routes_take_the_image_and_answer_where_they_acted(aiohttp_client, store, seeded):
    client = await aiohttp_client(make_app(store))
    pools.reorder(store, P, [2, 0, 1])  # c, a, b: the client still shows a, b, c

    async def post(path: str, body: dict, status: int = 200) -> dict:
        resp = await client.post(path, json=body)
        got = await resp.json()
        assert resp.status == status, got
        return got

    got = await post(
        "/grid_pool/label", {"pool_id": P, "index": 0, "label": "A", "image": seeded[0]}
    )
    assert (got["index"], got["image"], got["label"]) == (1, seeded[0], "A")
    got = await post("/grid_pool/active", {"pool_id": P, "index": C, "image": seeded[C]})
    assert (got["active"], got["index"], got["image"]) == (0, 0, seeded[2])
    got = await post("/grid_pool/remove", {"pool_id": P, "index": B, "image": seeded[B]})
    assert (got["index"], got["image"], got["count"]) == (2, seeded[1], 2)
    assert labels(store) == ["c", "A"]
    got = await post(
        "/grid_pool/set_mask", {"pool_id": P, "index": 0, "mask": None, "image": seeded[0]}
    )
    assert (got["index"], got["image"]) == (1, seeded[0])
    gone = await post(
        "/grid_pool/label", {"pool_id": P, "index": 0, "label": "x", "image": seeded[1]}, 404
    )
    assert gone["code"] == "slot_gone"
    for bad in ("../manifest.json", "x" * 300, 7):
        await post("/grid_pool/remove", {"pool_id": P, "index": 0, "image": bad}, 400)
    assert labels(store) == ["c", "A"]
