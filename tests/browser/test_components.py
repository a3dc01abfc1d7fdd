"""The shared components mounted by hand on the standalone page, as a host would mount
them: a grid with a MaskEditor (double-click paints without selecting), upload
progress that never moves the thumbnails, the page's own accessible dialog, and the
grid applying the small answers of slot edits."""

from __future__ import annotations

import io
import uuid

from PIL import Image
from playwright.sync_api import expect

from pool_profiles import pools

MOUNT = """async ([poolId, height]) => {
  const { createApi } = await import('/lib/api.js');
  const { createPoolGrid } = await import('/lib/pool_grid.js');
  window.__opened = [];
  const api = createApi();
  // Uploads held back until the test releases them: progress stays on screen.
  window.__release = null;
  const held = { ...api, addImage: (id, file, opts) => new Promise((ok) => {
    window.__release = () => api.addImage(id, file, opts).then(ok);
  }) };
  const onOpenMask = (slot) => window.__opened.push(slot.index);
  const grid = createPoolGrid({ api: held, poolId, onOpenMask });
  const box = document.createElement('div');
  box.id = 'harness';
  box.style.cssText = `height:${height}px;width:480px;position:relative`;
  box.append(grid.element);
  document.body.prepend(box);
  window.__grid = grid;
}"""


def png(color) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), color).save(buf, "PNG")
    return buf.getvalue()


def mounted(page, served, count: int, height: int = 420):
    pool_id = f"comp-{uuid.uuid4().hex[:8]}"
    store = served.store()
    for i in range(count):
        pools.add_image(store, pool_id, png((40 * i, 10, 10)), label=f"c{i}")
    page.evaluate(MOUNT, [pool_id, height])
    grid = page.locator("#harness").get_by_role("region", name="Image pool")
    expect(grid.locator("li.ppg-cell")).to_have_count(count)
    return pool_id, grid


def test_double_click_paints_the_mask_and_keeps_the_active_slot(page, served):
    pool_id, grid = mounted(page, served, 3)
    second = grid.get_by_role("button", name="Select slot 1: c1")
    second.dblclick()
    page.wait_for_timeout(600)  # longer than the click's wait for a second click
    assert page.evaluate("() => window.__opened") == [1]
    assert pools.pool_view(served.store(), pool_id)["active"] == 0
    expect(grid.get_by_role("button", name="Select slot 0: c0")).to_have_attribute(
        "aria-pressed", "true"
    )
    second.click()  # a single click still selects
    expect(second).to_have_attribute("aria-pressed", "true")
    assert pools.pool_view(served.store(), pool_id)["active"] == 1
    assert page.evaluate("() => window.__opened") == [1]


def test_upload_progress_never_moves_the_thumbnails(page, served):
    _pool_id, grid = mounted(page, served, 2, height=300)
    first = grid.locator("li.ppg-cell").first
    before = first.bounding_box()
    with page.expect_file_chooser() as chooser:
        grid.get_by_role("button", name="Upload").click()
    chooser.value.set_files(
        [
            {"name": f"u{i}.png", "mimeType": "image/png", "buffer": png((9, 9, 9 * i))}
            for i in range(4)
        ]
    )
    uploads = grid.get_by_role("list", name="Uploads")
    expect(uploads.get_by_role("listitem")).to_have_count(4)
    assert first.bounding_box() == before  # the progress floats over the grid
    box = grid.bounding_box()
    strip = uploads.bounding_box()
    assert strip["y"] + strip["height"] <= box["y"] + box["height"] + 1  # inside the grid
    page.evaluate("() => window.__release()")
    expect(grid.locator("li.ppg-cell")).to_have_count(3)
    assert first.bounding_box() == before


def test_slot_edits_apply_their_small_answers(page, served):
    pool_id, grid = mounted(page, served, 3)
    answers = []
    page.on(
        "response",
        lambda r: answers.append(r.json()) if r.request.method == "POST" else None,
    )
    label = grid.get_by_role("textbox", name="Label of slot 2")
    label.fill("renamed")
    label.press("Enter")
    grid.get_by_role("button", name="Select slot 2: renamed").focus()
    page.keyboard.press("Alt+ArrowLeft")  # reorder
    expect(grid.get_by_role("button", name="Select slot 1: renamed")).to_be_focused()
    for _ in range(50):  # response events reach this thread a little later
        if len(answers) >= 2:
            break
        page.wait_for_timeout(100)
    assert [a["change"] for a in answers] == ["label", "reorder"]
    assert all("slots" not in a for a in answers)  # the change, not the whole view
    view = page.evaluate("() => window.__grid.getView()")
    stored = pools.pool_view(served.store(), pool_id)
    assert [s["image"] for s in view["slots"]] == [s["image"] for s in stored["slots"]]
    assert [s["label"] for s in view["slots"]] == ["c0", "renamed", "c1"]


def test_the_page_asks_in_its_own_accessible_dialog(page, served):
    page.get_by_role("button", name="Create", exact=True).click()
    dialog = page.get_by_role("dialog", name="New profile")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("textbox", name="Name of the new profile:")).to_be_focused()
    page.keyboard.press("Escape")  # cancels; nothing is created
    expect(dialog).to_have_count(0)
    assert page.dialogs.seen == []  # and the browser's own prompt never came
