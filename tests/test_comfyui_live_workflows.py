"""Opt-in: what you queue is what runs, in a real ComfyUI (same switches and fixtures as
tests/test_comfyui_live_ui.py: per frontend, store and renderer).

(a) with "(no profile)" picked the run outputs what the grid shows; (b) a prompt
serialised with slot 2 active and queued after the user picked slot 5 outputs slot 2;
(c) four Runs with index's control at increment output four consecutive slots,
wrapping at the end; and a workflow saved before the control existed loads intact."""

# ruff: noqa: F811 - the fixtures come from test_comfyui_live_ui (same ComfyUI switches)
from __future__ import annotations

import re
import time
import uuid

import numpy as np
import pytest
from comfyui_live_support import live_only, queue_and_wait, saved_image
from test_comfyui_live_ui import (  # noqa: F401 - fixtures
    assert_quiet,
    browser,
    comfy,
    eventually,
    image,
    moto_live,
    pool_view,
    shared_prefix,
    slots,
    ui,
)

pytestmark = live_only

COLOURS = [
    (220, 30, 30),
    (30, 200, 30),
    (30, 30, 220),
    (200, 200, 30),
    (30, 200, 200),
    (200, 30, 200),
]
VIEW_SLOTS = "(id) => app.graph.getNodeById(id).__poolProfilesPool.grid.getView()?.slots || []"


def fill(cp, pool_id: str, n: int) -> None:
    for i in range(n):
        cp.client.multipart(
            "/grid_pool/add",
            {"pool_id": pool_id, "label": f"slot {i}"},
            {"image": image(COLOURS[i])},
        )


def refresh(cp, node: int) -> None:
    cp.js("(id) => app.graph.getNodeById(id).__poolProfilesPool.refresh()", node)


def slot_of(pixels: np.ndarray) -> int:
    mean = pixels.reshape(-1, 3).mean(axis=0)
    return int(np.argmin([np.abs(mean - np.array(c)).sum() for c in COLOURS]))


def add_save(cp, pool: int, prefix: str) -> int:
    save = cp.add_node("SaveImage", (900, 60))
    cp.js(
        "([src, dst, prefix]) => { const a = app.graph.getNodeById(src),"
        " b = app.graph.getNodeById(dst); a.connect(0, b, 0);"
        " b.widgets.find((w) => w.name === 'filename_prefix').value = prefix; }",
        [pool, save, prefix],
    )
    return save


def click_slot(cp, grid, node: int, index: int, pool_id: str) -> None:
    grid.get_by_role("button", name=re.compile(rf"^Select slot {index}\b")).click()
    assert eventually(cp, lambda: pool_view(cp, pool_id)["active"] == index)
    # ... and the grid shows it (what a queue pins is what the grid shows)
    shown = "(id) => app.graph.getNodeById(id).__poolProfilesPool.grid.getView()?.active"
    assert eventually(cp, lambda: cp.js(shown, node) == index)


def test_no_profile_runs_what_the_grid_shows_and_the_pin_holds(ui, comfy):
    from playwright.sync_api import expect

    cp = ui
    pool = cp.add_node("GridImagePool", (420, 60))
    prof = cp.add_node("PoolProfile", (20, 60))
    cp.connect(prof, pool, "profile")
    grid = cp.grid(pool)
    pool_id = cp.widget(pool, "pool_id")
    fill(cp, pool_id, 6)
    refresh(cp, pool)
    expect(slots(grid)).to_have_count(6)
    assert cp.widget(prof, "profile_id") == ""  # "(no profile)"
    assert cp.widget(pool, "control_after_generate") == "fixed"  # new nodes: fixed
    save = add_save(cp, pool, f"rule_{uuid.uuid4().hex[:6]}")

    # (a) The grid shows the node's own pool; the run reads it too.
    click_slot(cp, grid, pool, 3, pool_id)
    prompt = cp.js("async () => (await app.graphToPrompt()).output")
    entry = queue_and_wait(cp.client, prompt, comfy.log_path)
    assert slot_of(saved_image(cp.client, entry, str(save))) == 3

    # (b) Serialised with slot 2 active, queued after the user picked slot 5.
    click_slot(cp, grid, pool, 2, pool_id)
    prompt = cp.js("async () => (await app.graphToPrompt()).output")
    assert prompt[str(pool)]["inputs"]["pin"].endswith("|slot 2")
    click_slot(cp, grid, pool, 5, pool_id)
    entry = queue_and_wait(cp.client, prompt, comfy.log_path)
    assert slot_of(saved_image(cp.client, entry, str(save))) == 2
    # The workflow saved with it keeps no pin: loading it pins afresh at queue time.
    workflow = cp.js("() => app.graph.serialize()")
    saved = next(n for n in workflow["nodes"] if str(n["id"]) == str(pool))
    assert "" in saved["widgets_values"] and not any(
        isinstance(v, str) and "|" in v for v in saved["widgets_values"]
    )
    assert_quiet(cp)


def test_increment_steps_one_slot_per_run_and_wraps(ui, comfy):
    from playwright.sync_api import expect

    cp = ui
    pool = cp.add_node("GridImagePool", (420, 60))
    grid = cp.grid(pool)
    pool_id = cp.widget(pool, "pool_id")
    fill(cp, pool_id, 3)
    refresh(cp, pool)
    expect(slots(grid)).to_have_count(3)
    prefix = f"step_{uuid.uuid4().hex[:6]}"
    save = add_save(cp, pool, prefix)
    cp.js(
        "(id) => { const n = app.graph.getNodeById(id);"
        " n.widgets.find((w) => w.name === 'index').value = 1;"
        " n.widgets.find((w) => w.name === 'control_after_generate').value = 'increment'; }",
        pool,
    )
    for _ in range(4):  # the Run button's own path: queue, then the control applies
        cp.js("async () => { await app.queuePrompt(0, 1); }")
    deadline = time.monotonic() + 180
    runs: list = []
    while time.monotonic() < deadline:
        history = cp.client.json("GET", "/history")
        runs = [
            e
            for e in history.values()
            if any(
                n.get("inputs", {}).get("filename_prefix") == prefix
                for n in e["prompt"][2].values()
            )
            and e.get("status", {}).get("completed")
        ]
        if len(runs) == 4:
            break
        cp.page.wait_for_timeout(500)
    assert len(runs) == 4, f"{len(runs)} of 4 runs finished"
    runs.sort(key=lambda e: e["prompt"][0])
    indexes = [e["prompt"][2][str(pool)]["inputs"]["index"] for e in runs]
    assert indexes == [1, 2, 3, 4]  # the index used is in each prompt: repeatable
    assert [slot_of(saved_image(cp.client, e, str(save))) for e in runs] == [1, 2, 0, 1]
    assert cp.widget(pool, "index") == 5
    assert_quiet(cp)


def test_a_workflow_saved_before_the_control_loads_intact(ui):
    cp = ui
    pool_id = f"old{uuid.uuid4().hex[:10]}"
    fill(cp, pool_id, 2)
    workflow = {
        "last_node_id": 1,
        "last_link_id": 0,
        "nodes": [
            {
                "id": 1,
                "type": "GridImagePool",
                "pos": [300, 80],
                "size": [440, 480],
                "flags": {},
                "order": 0,
                "mode": 0,
                "inputs": [],
                "outputs": [],
                "properties": {"Node name for S&R": "GridImagePool"},
                "widgets_values": [1, pool_id],  # [index, pool_id]: no control, no pin
            }
        ],
        "links": [],
        "groups": [],
        "config": {},
        "extra": {},
        "version": 0.4,
    }
    cp.js("async (wf) => { await app.loadGraphData(wf); }", workflow)
    node = eventually(cp, lambda: (cp.node_ids("GridImagePool") or [None])[0])
    assert eventually(cp, lambda: cp.widget(node, "pool_id") == pool_id)
    assert cp.widget(node, "index") == 1
    assert cp.widget(node, "control_after_generate") == "fixed"
    assert cp.widget(node, "pin") == ""
    assert eventually(cp, lambda: len(cp.js(VIEW_SLOTS, node)) == 2)
    assert_quiet(cp)


@pytest.fixture(autouse=True)
def _no_leftover_dialogs(ui):
    yield
    left = ui.js("() => window.__answers || []")
    assert left == [], f"dialogs that never came: {left}"


def test_list_node_grid_filters_by_its_tags_and_the_batch_runs(ui, comfy):
    from playwright.sync_api import expect

    cp = ui
    node = cp.add_node("GridImagePoolAll", (420, 60))
    grid = cp.grid(node)
    pool_id = cp.widget(node, "pool_id")
    assert pool_id, "the list node mints its own pool id"
    # Saved widgets as example_workflows/pool_all_batch.json has them: no control on seed.
    names = cp.js(
        "(id) => app.graph.getNodeById(id).widgets.filter((w) => w.serialize !== false"
        " && w.options?.serialize !== false).map((w) => w.name)",
        node,
    )
    assert names == [
        "pool_id",
        "tags",
        "order",
        "seed",
        "start",
        "limit",
        "resize",
        "width",
        "height",
    ], names
    for i, label in enumerate(["front, red", "side, red", "front, blue"]):
        fields = {"pool_id": pool_id, "label": label}
        cp.client.multipart(
            "/grid_pool/add", fields, {"image": image(COLOURS[i], (40 + 8 * i, 32))}
        )
    refresh(cp, node)
    expect(slots(grid)).to_have_count(3)
    cp.js(
        "(id) => { const w = app.graph.getNodeById(id).widgets.find((w) => w.name === 'tags');"
        " w.value = 'red'; w.callback?.(w.value); }",
        node,
    )
    expect(grid.get_by_role("searchbox", name="Filter by tag")).to_have_value("red")
    expect(grid.get_by_text("2 of 3")).to_be_visible()
    save = cp.add_node("SaveImage", (900, 60))
    cp.js(
        "([src, dst]) => { const a = app.graph.getNodeById(src), b = app.graph.getNodeById(dst);"
        " a.connect(4, b, 0); }",  # the batch
        [node, save],
    )
    prompt = cp.js("async () => (await app.graphToPrompt()).output")
    entry = queue_and_wait(cp.client, prompt, comfy.log_path)
    saved = entry["outputs"][str(save)]["images"]
    assert len(saved) == 2  # the two red slots, cropped to the first one's size
    assert slot_of(saved_image(cp.client, entry, str(save))) == 0
    assert_quiet(cp)
