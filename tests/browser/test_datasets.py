"""The profile bar with datasets: Export → "dataset" downloads the trainer layout as a
zip, and Import takes a dataset zip as well as a profile zip, showing what it skipped."""

from __future__ import annotations

import io
import uuid
import zipfile

from PIL import Image
from playwright.sync_api import expect

from pool_profiles import pools, registry


def png(color, size=(48, 32)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def cells(page):
    return page.locator("#profile-pool li.ppg-cell")


def test_export_as_a_dataset_then_import_it(page, served, tmp_path):
    store = served.store()
    name = f"Trainset {uuid.uuid4().hex[:6]}"
    prof = registry.create_profile(store, name)
    for i in range(2):
        pools.add_image(store, prof["id"], png((90 * i, 80, 200)), label=f"caption {i}")
    page.reload()
    dropdown = page.get_by_role("combobox", name="Profile", exact=True)
    dropdown.select_option(prof["id"])
    expect(cells(page)).to_have_count(2)

    choice = page.get_by_role("combobox", name="Export format")
    expect(choice).to_have_value("zip")  # the profile zip stays the default
    choice.select_option("dataset")
    with page.expect_download() as download:
        page.get_by_role("button", name="Export", exact=True).click()
    path = tmp_path / "set.zip"
    download.value.save_as(path)
    assert "dataset" in download.value.suggested_filename
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["0000.png", "0000.txt", "0001.png", "0001.txt"]
        assert zf.read("0001.txt") == b"caption 1"
        # A file the import cannot use, to see it listed.
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("notes.json", "{}")

    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Import", exact=True).click()
    chooser.value.set_files(str(path))
    expect(page.get_by_role("status").filter(has_text="Skipped 1 file(s)")).to_contain_text(
        "notes.json: not an image or a caption (.json)"
    )
    expect(dropdown.locator("option:checked")).to_have_text("set")
    expect(cells(page)).to_have_count(2)
    expect(page.get_by_role("textbox", name="Label of slot 1")).to_have_value("caption 1")
    imported = registry.find_by_name(served.store(), "set")
    assert imported is not None and imported["id"] != prof["id"]
    registry.delete_profile(served.store(), imported["id"])
