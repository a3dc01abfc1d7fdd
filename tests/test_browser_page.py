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


def test_page_lists_profiles_and_thumbnails(served):
    from playwright.sync_api import sync_playwright

    url, prof = served
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("dialog", lambda d: (problems.append("dialog: " + d.message), d.dismiss()))
        page.goto(url)
        page.wait_for_selector("article.profile >> nth=1")

        titles = page.locator("article.profile h2").all_inner_texts()
        assert any("Faces <b>bold</b>" in t for t in titles)  # shown as text, not markup
        assert any("Empty" in t for t in titles)
        first = page.locator("article.profile", has_text="Faces")
        slots = first.locator("figure.slot")
        assert slots.count() == 2
        page.wait_for_function(
            "() => [...document.querySelectorAll('figure.slot img')]"
            ".every(i => i.complete && i.naturalWidth > 0)"
        )
        assert "active" in (slots.nth(0).get_attribute("class") or "")
        assert slots.nth(0).locator(".mask-dot").count() == 1
        assert slots.nth(1).locator(".mask-dot").count() == 0
        assert slots.nth(0).locator(".label").inner_text() == "red one"
        assert "onerror" in slots.nth(1).locator(".label").inner_text()
        assert page.locator("figure.slot img[src='x']").count() == 0
        assert "empty pool" in page.locator("article.profile", has_text="Empty").inner_text()

        # a node's own pool, by id
        page.fill("#pool-id", "node-pool-1")
        page.click("#pool-form button")
        page.wait_for_selector("article.profile:has-text('node-pool-1') figure.slot img")
        browser.close()
    assert problems == []
