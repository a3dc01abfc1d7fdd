"""The page says so, visibly, when its store runs single-writer: here a service that
ignores conditional writes (a proxy in front of moto that drops If-Match /
If-None-Match) with "single_writer": true accepted. A store that verified its
conditional writes shows no notice."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from pool_profiles.testing.moto_server import s3_options

BUCKET = "pool-profiles-test"  # tests/conftest.py creates it


@dataclass
class Served:
    url: str
    endpoint: str
    single_writer: bool


@pytest.fixture(scope="module", params=["proxied", "direct"])
def served(request):
    from pool_profiles.testing.stripping_proxy import StrippingProxy

    endpoint = request.getfixturevalue("moto_endpoint")
    with StrippingProxy(endpoint) as proxy:
        proxied = request.param == "proxied"
        via = proxy.endpoint if proxied else endpoint
        options = {**s3_options(via), "single_writer": True}
        url = f"s3://{BUCKET}/browser-sw-{uuid.uuid4().hex[:10]}"
        cmd = [sys.executable, "-m", "pool_profiles.cli", "--store", url]
        cmd += ["--store-options", json.dumps(options), "serve", "--port", "0"]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            line = proc.stdout.readline()
            assert "serving on" in line, proc.stderr.read()
            mode = "single writer" if proxied else "several writers"
            assert proc.stdout.readline().startswith(f"pool-profiles: store {url}: {mode}")
            yield Served(line.split("serving on ", 1)[1].split()[0].rstrip("/"), via, proxied)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


MOUNT_GRID = """async () => {
  const { createApi } = await import("/lib/api.js");
  const { createPoolGrid } = await import("/lib/pool_grid.js");
  const grid = createPoolGrid({ api: createApi() });  // as the ComfyUI node mounts it
  grid.element.id = "node-like-grid";
  document.body.append(grid.element);
}"""


def test_single_writer_notice(page, served):
    notice = page.get_by_role("alert").filter(has_text="Single-writer mode")
    expect(page.locator("#store-info")).to_contain_text("s3 store")
    if served.single_writer:
        expect(notice).to_be_visible()
        expect(notice).to_contain_text(served.endpoint)
        expect(notice).to_contain_text("If-Match")
        expect(page.locator("#store-info")).to_contain_text("single writer")
        # The page says it once: its grids leave their own notice out.
        expect(page.locator(".ppg-notice:visible")).to_have_count(0)
    else:
        expect(page.locator("#store-info")).not_to_contain_text("single writer")
        expect(notice).to_have_count(0)


def test_grid_as_mounted_in_comfyui_shows_the_notice(page, served):
    with page.expect_response("**/grid_pool/store_info"):  # the grid's own question
        page.evaluate(MOUNT_GRID)
    notice = page.locator("#node-like-grid").get_by_role("note")
    if served.single_writer:
        expect(notice).to_be_visible()
        expect(notice).to_contain_text("Single-writer mode")
        expect(notice).to_contain_text(served.endpoint)
    else:
        expect(page.locator("#node-like-grid .ppg-bar")).to_be_visible()
        expect(notice).to_be_hidden()
