"""The pool grid on the standalone page: upload with per-file results, thumbnails
(never originals, aspect kept), select, label, reorder by drag and by keyboard,
delete with confirmation, hostile text, keyboard use."""

from __future__ import annotations

import io
import re
import uuid

from PIL import Image
from playwright.sync_api import expect

from pool_profiles import pools, registry


def png(color, size=(64, 32)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def image_file(name: str, color, size=(64, 32)) -> dict:
    return {"name": name, "mimeType": "image/png", "buffer": png(color, size)}


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:6]}"


THUMBS_LOADED = (
    "(n) => { const imgs = [...document.querySelectorAll('#profile-pool .ppg-thumb img')];"
    " return imgs.length === n && imgs.every(i => i.complete && i.naturalWidth > 0); }"
)


def pick(page, name: str) -> None:
    page.get_by_role("combobox", name="Profile").select_option(label=name)


def grid(page):
    return page.locator("#profile-pool").get_by_role("region", name="Image pool")


def seeded(served, name: str, colors) -> dict:
    store = served.store()
    prof = registry.create_profile(store, name)
    for i, color in enumerate(colors):
        pools.add_image(store, prof["id"], png(color), label=f"image {i}")
    return prof


def test_upload_select_label_reorder_delete(page, served):
    name = unique("Uploads")
    page.get_by_role("button", name="Create", exact=True).click()
    page.answer(name)
    for _ in range(100):  # the answer's create reaches the store a moment later
        prof = registry.find_by_name(served.store(), name)
        if prof:
            break
        page.wait_for_timeout(50)
    assert prof, f"profile {name!r} was not created"
    expect(page.get_by_role("combobox", name="Profile")).to_have_value(prof["id"])
    g = grid(page)
    expect(g.get_by_text("No images yet")).to_be_visible()  # says how to add images

    # several files at once, one of them broken: it fails alone
    page.console.allow(r"status of 400")
    with page.expect_file_chooser() as chooser:
        g.get_by_role("button", name="Upload").click()
    chooser.value.set_files(
        [
            image_file("wide.png", (255, 0, 0), (120, 30)),
            image_file("green.png", (0, 255, 0)),
            {"name": "broken.png", "mimeType": "image/png", "buffer": b"not an image"},
            image_file("blue.png", (0, 0, 255)),
            image_file("tall.png", (255, 255, 0), (20, 90)),
        ]
    )
    failed = g.get_by_role("listitem").filter(has_text="broken.png")
    expect(failed.get_by_role("alert")).to_contain_text("not a supported image")
    cells = g.locator("li.ppg-cell")
    expect(cells).to_have_count(4)
    page.wait_for_function(THUMBS_LOADED, arg=4)
    srcs = [cells.nth(i).locator("img").get_attribute("src") for i in range(4)]
    assert all("/grid_pool/thumb?" in s for s in srcs)  # never the originals
    assert cells.nth(0).locator("img").get_attribute("loading") == "lazy"
    fit = cells.nth(0).locator("img").evaluate("i => getComputedStyle(i).objectFit")
    assert fit == "contain"  # the whole image shows: no square crop
    view = pools.pool_view(served.store(), prof["id"])
    assert view["count"] == 4 and view["active"] == 0

    # click = make active
    g.get_by_role("button", name="Select slot 2").click()
    expect(g.get_by_role("button", name="Select slot 2")).to_have_attribute("aria-pressed", "true")
    expect(cells.nth(2)).to_have_class("ppg-cell ppg-active")
    assert pools.pool_view(served.store(), prof["id"])["active"] == 2

    # inline label editing: Enter saves, Escape reverts
    label0 = g.get_by_role("textbox", name="Label of slot 0")
    label0.fill("wide one")
    label0.press("Enter")
    expect(g.get_by_role("button", name="Select slot 0: wide one")).to_be_visible()
    assert pools.pool_view(served.store(), prof["id"])["slots"][0]["label"] == "wide one"
    label1 = g.get_by_role("textbox", name="Label of slot 1")
    label1.fill("not kept")
    label1.press("Escape")
    expect(label1).to_have_value("")

    images = [s["image"] for s in pools.pool_view(served.store(), prof["id"])["slots"]]

    # keyboard reorder: Alt+→ moves the focused slot one place later, focus follows
    g.get_by_role("button", name="Select slot 0: wide one").focus()
    page.keyboard.press("Alt+ArrowRight")
    expect(g.get_by_role("button", name="Select slot 1: wide one")).to_be_focused()
    after = [s["image"] for s in pools.pool_view(served.store(), prof["id"])["slots"]]
    assert after == [images[1], images[0], images[2], images[3]]

    # drag to reorder: the last slot onto the first
    cells.nth(3).drag_to(cells.nth(0))
    expect(g.get_by_role("button", name="Select slot 1")).to_be_visible()
    expect(g.get_by_role("button", name="Select slot 0", exact=True)).to_be_visible()
    order = [s["image"] for s in pools.pool_view(served.store(), prof["id"])["slots"]]
    assert order == [images[3], images[1], images[0], images[2]]

    # delete asks first; "cancel" keeps the slot
    g.get_by_role("button", name="Delete slot 2: wide one").click()
    page.answer(False)
    expect(cells).to_have_count(4)
    g.get_by_role("button", name="Delete slot 2: wide one").click()
    page.answer(True)
    expect(cells).to_have_count(3)
    left = [s["image"] for s in pools.pool_view(served.store(), prof["id"])["slots"]]
    assert left == [images[3], images[1], images[2]]
    assert any("Delete" in m for m in page.dialogs.seen)


def test_hostile_labels_and_names_are_text(page, served):
    hostile = '<img src=x onerror="alert(1)"><b>bold</b>'
    store = served.store()
    prof = registry.create_profile(store, unique("<b>Faces</b>"))
    pools.add_image(store, prof["id"], png((9, 9, 9)), label=hostile)
    page.reload()
    dropdown = page.get_by_role("combobox", name="Profile")
    dropdown.select_option(prof["id"])
    assert prof["name"] in dropdown.locator("option").all_inner_texts()
    g = grid(page)
    expect(g.get_by_role("textbox", name="Label of slot 0")).to_have_value(hostile)
    # typed through the UI, too
    label = g.get_by_role("textbox", name="Label of slot 0")
    label.fill(hostile + " again")
    label.press("Enter")
    expect(g.get_by_role("button", name=f"Select slot 0: {hostile} again")).to_be_visible()
    page.reload()
    dropdown.select_option(prof["id"])
    expect(g.get_by_role("textbox", name="Label of slot 0")).to_have_value(hostile + " again")
    alt = g.locator("li.ppg-cell img").first.get_attribute("alt")
    assert alt == hostile + " again"  # alt text is the label
    assert page.locator("img[src='x'], b").count() == 0  # nothing became markup


def test_keyboard_only(page, served):
    prof = seeded(served, unique("Keys"), [(200, 0, 0), (0, 200, 0)])
    page.reload()
    dropdown = page.get_by_role("combobox", name="Profile")
    dropdown.focus()
    dropdown.select_option(prof["id"])  # a <select> is keyboard-operable natively
    g = grid(page)
    expect(g.locator("li.ppg-cell")).to_have_count(2)
    # Tab walks the bar's buttons in order, then into the grid
    page.keyboard.press("Tab")
    for role, name in (
        ("button", "Create"),
        ("button", "Rename"),
        ("button", "Delete"),
        ("button", "Duplicate"),
        ("button", "Export"),
        ("combobox", "Export format"),
        ("button", "Import"),
        ("button", "Recently deleted"),
    ):
        expect(page.get_by_role(role, name=name, exact=True)).to_be_focused()
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline not in ("none", ""), f"{name} shows no focus"
        page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # the grid region itself (paste target)
    expect(g.get_by_role("button", name="Upload")).to_be_focused()
    page.keyboard.press("Tab")
    expect(g.get_by_role("button", name="History")).to_be_focused()
    page.keyboard.press("Tab")
    expect(g.get_by_role("searchbox", name="Filter by tag")).to_be_focused()
    page.keyboard.press("Tab")
    expect(g.get_by_role("button", name="Select slot 0: image 0")).to_be_focused()
    page.keyboard.press("Tab")
    expect(g.get_by_role("button", name="Delete slot 0: image 0")).to_be_focused()
    page.keyboard.press("Tab")
    expect(g.get_by_role("textbox", name="Label of slot 0")).to_be_focused()
    page.keyboard.press("Tab")
    second = g.get_by_role("button", name="Select slot 1: image 1")
    expect(second).to_be_focused()
    page.keyboard.press("Enter")  # select with the keyboard
    expect(second).to_have_attribute("aria-pressed", "true")
    assert pools.pool_view(served.store(), prof["id"])["active"] == 1
    page.keyboard.press("Alt+ArrowLeft")
    expect(g.get_by_role("button", name="Select slot 0: image 1")).to_be_focused()
    page.keyboard.press("Shift+Tab")  # back before slot 0's thumbnail: Upload
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(g.get_by_role("button", name="Delete slot 0: image 1")).to_be_focused()
    page.keyboard.press("Enter")
    page.answer(True)
    expect(g.locator("li.ppg-cell")).to_have_count(1)
    assert pools.pool_view(served.store(), prof["id"])["slots"][0]["label"] == "image 0"


def test_mask_badge_is_announced(page, served):
    name = unique("Masked")
    prof = seeded(served, name, [(10, 10, 10), (200, 200, 200)])
    mask = io.BytesIO()
    Image.new("L", (64, 32), 255).save(mask, "PNG")  # white = painted
    pools.set_mask(served.store(), prof["id"], 1, mask.getvalue())
    page.reload()
    pick(page, name)
    g = grid(page)
    expect(g.get_by_role("listitem")).to_have_count(2)
    badges = g.get_by_role("img", name="has a mask")
    expect(badges).to_have_count(1)  # hidden on the slot without one
    cell = g.get_by_role("listitem").filter(has=page.get_by_role("button", name="Select slot 1"))
    expect(cell.get_by_role("img", name="has a mask")).to_be_visible()


def test_delete_after_another_writer_reordered_removes_the_image_shown(page, served):
    """The grid names the slot by its image too: another instance reorders the pool
    while this page still shows the old order, and deleting "image 0" removes image 0
    (not whatever slot took its index), then the grid shows the pool as it is."""
    name = unique("Moved")
    prof = seeded(served, name, [(250, 0, 0), (0, 250, 0), (0, 0, 250)])
    images = [s["image"] for s in pools.pool_view(served.store(), prof["id"])["slots"]]
    page.reload()
    pick(page, name)
    g = grid(page)
    cells = g.get_by_role("listitem")
    expect(cells).to_have_count(3)
    pools.reorder(served.store(), prof["id"], [2, 0, 1])  # another instance
    with page.expect_request("**/grid_pool/remove") as sent:
        g.get_by_role("button", name=re.compile(r"^Delete slot \d: image 0$")).click()
        page.answer(True)
    assert sent.value.post_data_json["image"] == images[0]
    expect(cells).to_have_count(2)
    left = [s["image"] for s in pools.pool_view(served.store(), prof["id"])["slots"]]
    assert left == [images[2], images[1]]
    expect(g.get_by_role("button", name="Select slot 0: image 2")).to_be_visible()
    expect(g.get_by_role("button", name="Select slot 1: image 1")).to_be_visible()
