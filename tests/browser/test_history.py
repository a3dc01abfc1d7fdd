"""History on the standalone page (local store and S3): delete a slot and press Undo,
Ctrl+Z in the grid, restore from the History panel, and "Recently deleted" profiles."""

from __future__ import annotations

import io
import uuid

from PIL import Image
from playwright.sync_api import expect

from pool_profiles import pools, registry


def png(color) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 32), color).save(buf, "PNG")
    return buf.getvalue()


def mask() -> bytes:
    buf = io.BytesIO()
    Image.new("L", (64, 32), 255).save(buf, "PNG")
    return buf.getvalue()


def seeded(served, name: str) -> dict:
    store = served.store()
    prof = registry.create_profile(store, name)
    for i, color in enumerate([(255, 0, 0), (0, 255, 0), (0, 0, 255)]):
        pools.add_image(store, prof["id"], png(color), label=f"image {i}")
    pools.set_mask(store, prof["id"], 0, mask())
    return prof


def slots(served, pid):
    m = pools.read_manifest(served.store(), pid)
    return [(s["image"], s.get("mask"), s["label"]) for s in m["slots"]]


def grid(page):
    return page.locator("#profile-pool").get_by_role("region", name="Image pool")


def open_profile(page, prof) -> None:
    page.reload()  # the dropdown lists the profile made behind the page's back
    page.get_by_role("combobox", name="Profile").select_option(label=prof["name"])
    expect(grid(page).locator("li.ppg-cell")).to_have_count(3)


def test_delete_a_slot_then_undo_brings_it_back(page, served):
    prof = seeded(served, f"Undo {uuid.uuid4().hex[:6]}")
    before = slots(served, prof["id"])
    open_profile(page, prof)
    g = grid(page)
    g.get_by_role("button", name="Delete slot 0: image 0").click()
    page.answer(True)
    expect(g.locator("li.ppg-cell")).to_have_count(2)
    offer = g.get_by_role("status").filter(has_text="Removed slot 0")
    expect(offer).to_contain_text("Removed slot 0 (“image 0”).")
    offer.get_by_role("button", name="Undo: removed slot 0 (“image 0”)").click()
    expect(g.locator("li.ppg-cell")).to_have_count(3)
    expect(g.get_by_role("textbox", name="Label of slot 0")).to_have_value("image 0")
    expect(g.get_by_role("img", name="has a mask")).to_have_count(1)  # its mask too
    assert slots(served, prof["id"]) == before
    page.wait_for_function(
        "() => [...document.querySelectorAll('#profile-pool .ppg-thumb img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )

    # Ctrl+Z while the grid has focus: the last change to this pool (the label) goes.
    label = g.get_by_role("textbox", name="Label of slot 1")
    label.fill("renamed")
    label.press("Enter")
    # The page has its answer (the offer names the label change) before focus moves on.
    expect(g.get_by_role("status").filter(has_text="Labelled slot 1")).to_be_visible()
    assert slots(served, prof["id"])[1][2] == "renamed"
    g.focus()
    page.keyboard.press("Control+z")
    expect(g.get_by_role("textbox", name="Label of slot 1")).to_have_value("image 1")
    assert slots(served, prof["id"]) == before


def test_a_stale_undo_is_refused_with_one_sentence(page, served):
    prof = seeded(served, f"Stale {uuid.uuid4().hex[:6]}")
    open_profile(page, prof)
    g = grid(page)
    g.get_by_role("button", name="Delete slot 2: image 2").click()
    page.answer(True)
    expect(g.locator("li.ppg-cell")).to_have_count(2)
    served.cli("pool", "label", prof["id"], "0", "theirs")  # another writer, after it
    page.console.allow(r"status of 409")
    g.get_by_role("button", name="Undo: removed slot 2 (“image 2”)").click()
    expect(page.get_by_role("alert").filter(has_text="the pool changed since")).to_be_visible()
    assert [s[2] for s in slots(served, prof["id"])] == ["theirs", "image 1"]


def test_history_panel_restores_a_version(page, served):
    prof = seeded(served, f"Panel {uuid.uuid4().hex[:6]}")
    open_profile(page, prof)
    g = grid(page)
    g.get_by_role("button", name="History").click()
    panel = g.get_by_role("region", name="Pool history")
    expect(panel.get_by_role("listitem")).to_have_count(4)  # three adds and the mask
    panel.get_by_role("button", name="Restore the version before: added slot 2 (“image 2”)").click()
    page.answer(True)
    expect(g.locator("li.ppg-cell")).to_have_count(2)
    assert [s[2] for s in slots(served, prof["id"])] == ["image 0", "image 1"]
    expect(panel.get_by_role("listitem")).to_have_count(5)  # the restore is kept too
    panel.get_by_role("button", name="Close history").click()
    expect(panel).to_be_hidden()


def test_recently_deleted_profiles_come_back(page, served):
    prof = seeded(served, f"Gone {uuid.uuid4().hex[:6]}")
    open_profile(page, prof)
    page.get_by_role("button", name="Delete", exact=True).click()
    page.answer(True)
    expect(page.get_by_role("combobox", name="Profile")).to_have_value("")
    page.get_by_role("button", name="Recently deleted").click()
    listing = page.get_by_role("region", name="Recently deleted profiles")
    listing.get_by_role("button", name=f"Restore profile “{prof['name']}”").click()
    expect(page.get_by_role("combobox", name="Profile")).to_have_value(prof["id"])
    expect(grid(page).locator("li.ppg-cell")).to_have_count(3)
    assert any(p["id"] == prof["id"] for p in registry.list_profiles(served.store()))
