"""The standalone page of `pool-profiles serve` in a real browser (Playwright driving
Debian's chromium): profiles and their thumbnails render, badges and labels show,
hostile labels stay text, and the page logs no errors."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys

import pytest
from PIL import Image

from pool_profiles import pools, registry
from pool_profiles.backends import open_store

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _browser_available() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        return "Debian's chromium is not installed"
    return None


_missing = _browser_available()
if _missing and os.environ.get("CI"):
    pytest.fail(f"browser test cannot run in CI: {_missing}", pytrace=False)
pytestmark = pytest.mark.skipif(bool(_missing), reason=_missing or "")


def png(color: tuple[int, int, int], size=(40, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def served(tmp_path):
    root = tmp_path / "store"
    store = open_store(str(root))
    prof = registry.create_profile(store, "Faces <b>bold</b>")
    pools.add_image(store, prof["id"], png((255, 0, 0)), label="red one")
    pools.add_image(store, prof["id"], png((0, 0, 255)), label='<img src=x onerror="alert(1)">')
    mask = png((255, 255, 255))
    pools.set_mask(store, prof["id"], 0, mask)
    pools.set_active(store, prof["id"], 0)
    registry.create_profile(store, "Empty")
    pools.add_image(store, "node-pool-1", png((0, 255, 0)))
    cmd = [sys.executable, "-m", "pool_profiles.cli", "--store", str(root), "serve", "--port", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert "serving on" in line, proc.stderr.read()
        url = line.split("serving on ", 1)[1].split()[0]
        yield url, prof
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_page_mounts_the_shared_components(served):
    from playwright.sync_api import expect, sync_playwright

    url, prof = served
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("dialog", lambda d: (problems.append("dialog: " + d.message), d.dismiss()))
        page.goto(url)

        dropdown = page.get_by_role("combobox", name="Profile")
        expect(dropdown.locator("option")).to_have_count(3)  # (no profile), Empty, Faces
        names = dropdown.locator("option").all_inner_texts()
        assert names[1:] == ["Empty", "Faces <b>bold</b>"]  # sorted, shown as text
        dropdown.select_option(prof["id"])
        grid = page.get_by_role("region", name="Image pool").first
        cells = grid.locator("li.ppg-cell")
        expect(cells).to_have_count(2)
        page.wait_for_function(
            "() => [...document.querySelectorAll('.ppg-thumb img')]"
            ".every(i => i.complete && i.naturalWidth > 0)"
        )
        assert "thumb" in (cells.nth(0).locator("img").get_attribute("src") or "")
        expect(cells.nth(0)).to_have_class("ppg-cell ppg-active")
        expect(cells.nth(0).locator(".ppg-maskdot")).to_be_visible()
        expect(cells.nth(1).locator(".ppg-maskdot")).to_be_hidden()
        expect(page.get_by_role("textbox", name="Label of slot 0")).to_have_value("red one")
        hostile = page.get_by_role("textbox", name="Label of slot 1")
        expect(hostile).to_have_value('<img src=x onerror="alert(1)">')
        assert page.locator("img[src='x']").count() == 0

        # a node's own pool, by id; Show twice does not stack
        page.get_by_role("textbox", name="Pool id").fill("node-pool-1")
        page.get_by_role("button", name="Show").click()
        page.get_by_role("button", name="Show").click()
        expect(page.locator("#node-pool li.ppg-cell")).to_have_count(1)
        expect(page.locator("#node-pool .ppg")).to_have_count(1)
        browser.close()
    assert problems == []
