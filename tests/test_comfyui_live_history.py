"""Opt-in, in a real ComfyUI (see tests/test_comfyui_live_ui.py for how it runs): delete
a slot in the pool node's grid and press Undo: the slot (image, mask, label) is back in
the grid and in a run; Ctrl+Z in the grid undoes the pool's last change, not the graph."""

from __future__ import annotations

import re

import numpy as np
from comfyui_live_support import live_only, png, queue_and_wait, saved_image
from PIL import Image
from test_comfyui_live_ui import (  # noqa: F401  (fixtures, used by name)
    assert_quiet,
    browser,
    comfy,
    eventually,
    moto_live,
    pool_view,
    shared_prefix,
    slots,
    ui,
)

pytestmark = live_only


def test_delete_a_slot_then_undo_in_the_grid_and_in_a_run(ui, comfy):  # noqa: F811
    from playwright.sync_api import expect

    cp, page = ui, ui.page
    pool = cp.add_node("GridImagePool", (420, 60))
    grid = cp.grid(pool)
    pool_id = cp.widget(pool, "pool_id")
    rng = np.random.default_rng(11)
    pixels = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
    cp.client.multipart(
        "/grid_pool/add",
        {"pool_id": pool_id, "label": "front"},
        {"image": png(Image.fromarray(pixels))},
    )
    cp.client.multipart(
        "/grid_pool/add",
        {"pool_id": pool_id, "label": "back"},
        {"image": png(Image.new("RGB", (8, 8), "blue"))},
    )
    layer = np.full((24, 32), 0, dtype=np.uint8)
    layer[:12] = 255  # the top half painted
    cp.client.multipart(
        "/grid_pool/set_mask",
        {"pool_id": pool_id, "index": "0"},
        {"mask": png(Image.fromarray(layer, "L"))},
    )
    cp.js("(id) => app.graph.getNodeById(id).__poolProfilesPool.grid.refresh()", pool)
    expect(slots(grid)).to_have_count(2, timeout=20_000)
    before = pool_view(cp, pool_id)["slots"]

    cp.answer("Delete slot 0", True)
    grid.get_by_role("button", name=re.compile(r"^Delete slot 0\b")).click()
    expect(slots(grid)).to_have_count(1)
    grid.get_by_role("button", name=re.compile(r"^Undo: removed slot 0")).click()
    expect(slots(grid)).to_have_count(2)
    expect(grid.get_by_role("textbox", name="Label of slot 0")).to_have_value("front")
    expect(grid.get_by_role("img", name="has a mask")).to_have_count(1)
    assert pool_view(cp, pool_id)["slots"] == before

    # In a run: slot 0's image and mask, as before the delete.
    graph = {
        "1": {"class_type": "GridImagePool", "inputs": {"index": 0, "pool_id": pool_id}},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "undo"}},
        "3": {"class_type": "MaskToImage", "inputs": {"mask": ["1", 1]}},
        "4": {
            "class_type": "SaveImage",
            "inputs": {"images": ["3", 0], "filename_prefix": "undo_m"},
        },
    }
    result = queue_and_wait(cp.client, graph, comfy.log_path)
    assert int(np.abs(saved_image(cp.client, result, "2") - pixels.astype(np.int16)).max()) <= 1
    mask = saved_image(cp.client, result, "4")
    assert mask[:12].min() >= 254 and mask[12:].max() == 0

    # Ctrl+Z with the grid focused: the pool's last change goes; the graph stays.
    label = grid.get_by_role("textbox", name="Label of slot 1")
    label.fill("renamed")
    label.press("Enter")
    assert eventually(cp, lambda: pool_view(cp, pool_id)["slots"][1]["label"] == "renamed", 30)
    # The grid has its answer (the offer names the label change) before focus moves on.
    expect(grid.get_by_role("status").filter(has_text="Labelled slot 1")).to_be_visible()
    grid.focus()  # the grid region itself (its element is the tagged one)
    page.keyboard.press("Control+z")
    expect(grid.get_by_role("textbox", name="Label of slot 1")).to_have_value("back")
    assert eventually(cp, lambda: pool_view(cp, pool_id)["slots"][1]["label"] == "back", 30)
    assert cp.node_ids("GridImagePool") == [pool]  # ComfyUI's own undo did not run
    cp.shot(f"history-{cp.name}")
    assert_quiet(cp)
