"""The profile bar on the standalone page: create / rename / duplicate / delete with
confirmation, switching profiles switches the grid, export then import, server errors
as toasts; node pools by id; another process's changes appear without a reload."""

from __future__ import annotations

import io
import time
import uuid

from PIL import Image
from playwright.sync_api import expect

from pool_profiles import pools, registry


def png(color, size=(48, 32)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:6]}"


def seeded(served, name: str, count: int) -> dict:
    store = served.store()
    prof = registry.create_profile(store, name)
    for i in range(count):
        pools.add_image(store, prof["id"], png((40 * i, 100, 200)), label=f"{name} #{i}")
    return prof


def cells(page):
    return page.locator("#profile-pool li.ppg-cell")


def option_names(page) -> list[str]:
    return page.get_by_role("combobox", name="Profile").locator("option").all_inner_texts()


def test_profile_actions_and_switching(page, served):
    a = seeded(served, unique("Alpha"), 2)
    b = seeded(served, unique("Beta"), 1)
    page.reload()
    dropdown = page.get_by_role("combobox", name="Profile")
    # the list arrives after the page loads: wait for both seeded names
    expect(dropdown.locator("option", has_text=b["name"])).to_have_count(1)
    expect(dropdown.locator("option", has_text=a["name"])).to_have_count(1)
    names = option_names(page)[1:]
    assert names == sorted(names, key=str.casefold)  # sorted by name
    assert a["name"] in names and b["name"] in names

    # nothing selected: the actions on a selection are off
    expect(page.get_by_role("button", name="Rename", exact=True)).to_be_disabled()

    dropdown.select_option(a["id"])
    expect(cells(page)).to_have_count(2)
    expect(page.get_by_role("textbox", name="Label of slot 0")).to_have_value(f"{a['name']} #0")
    dropdown.select_option(b["id"])  # the grid switches with the profile
    expect(cells(page)).to_have_count(1)
    expect(page.get_by_role("textbox", name="Label of slot 0")).to_have_value(f"{b['name']} #0")

    # rename
    renamed = unique("Gamma")
    page.get_by_role("button", name="Rename", exact=True).click()
    page.answer(renamed)
    expect(dropdown.locator("option:checked")).to_have_text(renamed)
    assert registry.get_profile(served.store(), b["id"])["name"] == renamed

    # a name collision shows the server's message, changes nothing
    page.console.allow(r"status of 409")
    page.get_by_role("button", name="Create", exact=True).click()
    page.answer(a["name"])
    expect(page.get_by_role("alert").filter(has_text="already exists")).to_be_visible()
    assert option_names(page).count(a["name"]) == 1

    # duplicate: the copy is selected and shows the same images
    dropdown.select_option(a["id"])
    copy_name = unique("Alpha copy")
    page.get_by_role("button", name="Duplicate", exact=True).click()
    page.answer(copy_name)
    expect(dropdown.locator("option:checked")).to_have_text(copy_name)
    expect(cells(page)).to_have_count(2)
    copy = registry.find_by_name(served.store(), copy_name)
    assert dropdown.input_value() == copy["id"]

    # delete asks first; cancel keeps it
    page.get_by_role("button", name="Delete", exact=True).click()
    page.answer(False)
    assert registry.find_by_name(served.store(), copy_name) is not None
    page.get_by_role("button", name="Delete", exact=True).click()
    page.answer(True)
    expect(dropdown).to_have_value("")
    assert copy_name not in option_names(page)
    assert registry.find_by_name(served.store(), copy_name) is None
    expect(page.locator("#profile-pool").get_by_text("No pool selected")).to_be_visible()


def test_export_then_import(page, served, tmp_path):
    a = seeded(served, unique("Export me"), 3)
    page.reload()
    page.get_by_role("combobox", name="Profile").select_option(a["id"])
    expect(cells(page)).to_have_count(3)
    with page.expect_download() as download:
        page.get_by_role("button", name="Export", exact=True).click()
    zip_path = tmp_path / "profile.zip"
    download.value.save_as(zip_path)
    assert zip_path.stat().st_size > 0

    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Import", exact=True).click()
    chooser.value.set_files(str(zip_path))
    dropdown = page.get_by_role("combobox", name="Profile")
    expect(dropdown.locator("option:checked")).to_have_text(f"{a['name']} (2)")
    expect(cells(page)).to_have_count(3)
    expect(page.get_by_role("textbox", name="Label of slot 2")).to_have_value(f"{a['name']} #2")
    assert dropdown.input_value() != a["id"]  # a fresh id

    # a broken zip: the server's message, nothing registered
    page.console.allow(r"status of 400")
    before = len(registry.list_profiles(served.store()))
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 this is no zip")
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Import", exact=True).click()
    chooser.value.set_files(str(bad))
    expect(page.get_by_role("alert").first).to_be_visible()
    assert len(registry.list_profiles(served.store())) == before


def test_changes_by_another_process_appear_without_reload(page, served, tmp_path):
    a = seeded(served, unique("Shared"), 1)
    page.reload()
    page.get_by_role("combobox", name="Profile").select_option(a["id"])
    expect(cells(page)).to_have_count(1)
    image = tmp_path / "new.png"
    image.write_bytes(png((250, 10, 10)))

    # another writer (the CLI, as another ComfyUI instance would) adds to the pool
    served.cli("pool", "add", a["id"], str(image), "--label", "from the CLI")
    expect(cells(page)).to_have_count(2, timeout=15_000)
    expect(page.get_by_role("textbox", name="Label of slot 1")).to_have_value("from the CLI")

    # and creates a profile: the dropdown follows
    other = unique("Made elsewhere")
    served.cli("profiles", "create", other)
    expect(page.get_by_role("combobox", name="Profile").locator("option")).to_contain_text(
        [other], timeout=15_000
    )

    # deleting the selected profile elsewhere clears the selection here
    served.cli("profiles", "delete", a["id"])
    expect(page.get_by_role("combobox", name="Profile")).to_have_value("", timeout=15_000)


def test_a_poll_of_an_unchanged_store_is_a_304(page, served):
    a = seeded(served, unique("Quiet"), 1)
    page.reload()
    page.get_by_role("combobox", name="Profile").select_option(a["id"])
    expect(cells(page)).to_have_count(1)
    statuses: list[tuple[str, int]] = []
    page.on(
        "response",
        lambda r: statuses.append((r.url, r.status)) if "/list" in r.url else None,
    )
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline and len(statuses) < 2:
        page.wait_for_timeout(500)
    assert statuses, "the page never polled"
    assert all(status == 304 for _, status in statuses), statuses


def test_pools_list_opens_and_deletes_node_pools(page, served):
    store = served.store()
    pools.add_image(store, "node-pool-1", png((0, 255, 0)), label="node slot")
    prof = registry.create_profile(store, unique("Listed"))
    pools.add_image(store, prof["id"], png((9, 9, 9)))
    listing = page.get_by_role("region", name="All pools")
    listing.get_by_role("button", name="Refresh").click()
    expect(listing.get_by_role("button", name="Open pool node-pool-1")).to_be_visible()
    expect(listing.get_by_role("button", name=f"Open {prof['name']}")).to_be_visible()
    # a profile's pool is deleted as a profile, never from this list
    expect(listing.get_by_role("button", name=f"Delete {prof['name']}")).to_have_count(0)

    listing.get_by_role("button", name="Open pool node-pool-1").click()
    listing.get_by_role("button", name="Open pool node-pool-1").click()  # twice: still one grid
    opened = listing.get_by_role("region", name="Image pool")
    expect(opened).to_have_count(1)
    expect(opened.get_by_role("textbox", name="Label of slot 0")).to_have_value("node slot")

    # delete asks (saying what goes), cancel keeps it
    listing.get_by_role("button", name="Delete pool node-pool-1").click()
    page.answer(False)
    assert pools.pool_view(store, "node-pool-1")["count"] == 1
    listing.get_by_role("button", name="Delete pool node-pool-1").click()
    page.answer(True)
    assert "1 image (" in page.dialogs.seen[-1]  # says what goes
    expect(listing.get_by_role("button", name="Open pool node-pool-1")).to_have_count(0)
    expect(opened).to_have_count(0)  # the open grid of a deleted pool closes
    assert store.walk("node-pool-1") == []
