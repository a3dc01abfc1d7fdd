"""The grid's tag filter box (web/lib/tag_filter.js, mounted by pool_grid.js), the
browser twin of the tag syntax (web/lib/tags.js, the cases of tests/tag_cases.json)
and the queue-time pin (web/lib/pin.js) read back by Python."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

from PIL import Image
from playwright.sync_api import expect

from pool_profiles import pools, registry, slot_pick

CASES = json.loads((Path(__file__).parent.parent / "tag_cases.json").read_text("utf-8"))


def png(color) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), color).save(buf, "PNG")
    return buf.getvalue()


def test_tags_js_passes_the_shared_cases(page):
    result = page.evaluate(
        """async (cases) => {
            const m = await import('/lib/tags.js');
            const tags = Object.fromEntries(
                Object.keys(cases.tags).map((label) => [label, m.parseTags(label)]));
            const filters = Object.fromEntries(Object.keys(cases.filters).map((text) => {
                const match = m.parseFilter(text);
                return [text, cases.labels.flatMap((l, i) => (match(l) ? [i] : []))];
            }));
            const bad = cases.bad_filters.map((text) => {
                try { m.parseFilter(text); return null; } catch (e) { return e.message; }
            });
            return { tags, filters, bad };
        }""",
        CASES,
    )
    assert result["tags"] == CASES["tags"]
    assert result["filters"] == CASES["filters"]
    assert all(msg and "\n" not in msg for msg in result["bad"]), result["bad"]


def test_pin_js_makes_what_python_reads(page, served):
    store = served.store()
    pid = "pin-" + uuid.uuid4().hex[:8]
    for i, label in enumerate(["a", "front | back, red"]):
        pools.add_image(store, pid, png((i * 90, 0, 0)), label=label)
    view = pools.pool_view(store, pid)
    view["active"] = 1
    pins = page.evaluate(
        """async (view) => {
            const { pinFor } = await import('/lib/pin.js');
            const base = { view, shownPoolId: 'p', runPoolId: 'p' };
            return [pinFor({ ...base, index: -1 }), pinFor({ ...base, index: 0 }),
                    pinFor({ ...base, index: -1, runPoolId: 'other' }),
                    pinFor({ ...base, index: -1, view: null })];
        }""",
        view,
    )
    assert pins[1:] == ["", "", ""]  # a fixed index, another pool, nothing loaded: no pin
    manifest = pools.current_manifest(store, pid)
    assert pins[0] == slot_pick.make_pin(manifest["slots"][1])
    assert slot_pick.pick(manifest, -1, pins[0]) == 1


def test_filter_box_shows_only_matching_slots_with_a_count(page, served):
    store = served.store()
    name = f"Tagged {uuid.uuid4().hex[:6]}"
    prof = registry.create_profile(store, name)
    labels = ["front, red", "side, red", "front, blue", "plain"]
    for i, label in enumerate(labels):
        pools.add_image(store, prof["id"], png((i * 60, 100, 0)), label=label)
    page.reload()
    page.get_by_role("combobox", name="Profile").select_option(label=name)
    grid = page.locator("#profile-pool").get_by_role("region", name="Image pool")
    cells = grid.locator("li.ppg-cell")
    expect(cells).to_have_count(4)
    box = grid.get_by_role("searchbox", name="Filter by tag")

    def shown() -> list[str]:
        return [c.get_by_role("textbox").input_value() for c in cells.all() if c.is_visible()]

    box.fill("front")
    expect(grid.get_by_text("2 of 4")).to_be_visible()
    assert shown() == ["front, red", "front, blue"]
    box.fill("red, -side")
    expect(grid.get_by_text("1 of 4")).to_be_visible()
    assert shown() == ["front, red"]
    box.fill("nothing")
    expect(grid.get_by_text("0 of 4")).to_be_visible()
    assert shown() == []
    box.fill("a*b")  # a bad filter is marked and keeps the last good one
    expect(box).to_have_attribute("aria-invalid", "true")
    assert shown() == []
    box.fill("")
    expect(cells.nth(3)).to_be_visible()
    assert shown() == labels and not grid.get_by_text("of 4").is_visible()
    # A label changed elsewhere: the filter applies to what the poll brings.
    box.fill("plain | renamed")
    pools.set_label(store, prof["id"], 3, "renamed, blue")
    pools.set_label(store, prof["id"], 0, "plain")
    expect(grid.get_by_text("2 of 4")).to_be_visible(timeout=15_000)


def test_old_workflows_get_their_control_value_back(page):
    # web/comfy/pool_node.js runs this before litegraph restores widgets_values by
    # position: [index, pool_id] from before control_after_generate must not hand the
    # pool id to the control.
    out = page.evaluate(
        """async () => {
            const { withControlValue } = await import('/lib/widget_values.js');
            const saved = [-1, 'abc123'];
            return [withControlValue(saved, 1), withControlValue([3, 'increment', 'abc', ''], 1),
                    withControlValue(saved, -1), withControlValue(undefined, 1), saved];
        }"""
    )
    assert out == [
        [-1, "fixed", "abc123"],
        [3, "increment", "abc", ""],
        [-1, "abc123"],
        None,
        [-1, "abc123"],  # the saved workflow itself is not changed
    ]
