"""The standalone page and the shared components in Simplified Chinese: a browser set to
zh-CN gets the page chrome, the profile bar, the grid's cells, upload rows, loading and
progress texts, dialogs and client-side messages from locales/zh/main.json, and no
hard-coded English. (English, the default, is what every other browser test reads.)"""

from __future__ import annotations

import io
import json
import re
import uuid
from pathlib import Path

import pytest
from browser_pages import open_page
from PIL import Image
from playwright.sync_api import expect

from pool_profiles import pools, registry

ZH = json.loads(
    (Path(__file__).resolve().parents[2] / "locales" / "zh" / "main.json").read_text("utf-8")
)["poolProfiles"]

# The language has nothing to do with the store: one backend is enough.
pytestmark = pytest.mark.parametrize("served", ["local"], indirect=True)


def png(color) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), color).save(buf, "PNG")
    return buf.getvalue()


def z(key: str, **values) -> str:
    """The Chinese text of `key`, placeholders filled."""
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), m.group(0))), ZH[key])


@pytest.fixture
def zh_page(browser, served):
    context, pg, errors = open_page(browser, locale="zh-CN")
    pg.on("dialog", lambda d: errors.append(f"browser dialog: {d.message}"))
    pg.goto(served.url + "/")
    yield pg
    context.close()
    assert errors == []


def test_the_page_and_its_components_speak_chinese(zh_page, served):
    page = zh_page
    store = served.store()
    profile = registry.create_profile(store, f"画廊-{uuid.uuid4().hex[:6]}")
    pools.add_image(store, profile["id"], png((200, 10, 10)), label="猫")
    pools.add_image(store, profile["id"], png((10, 200, 10)))

    # the chrome: title, headings, the store line, the html language
    expect(page).to_have_title(ZH["appName"])
    expect(page.get_by_role("heading", level=1, name=ZH["appName"])).to_be_visible()
    expect(page.get_by_role("heading", level=2, name=ZH["profiles"], exact=True)).to_be_visible()
    expect(page.get_by_role("heading", level=2, name=ZH["pools"], exact=True)).to_be_visible()
    expect(page.locator("#pools-section p.muted")).to_have_text(ZH["poolsIntro"])
    expect(page.locator("#store-info")).to_contain_text(" 存储 ")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"

    # the profile bar
    dropdown = page.get_by_role("combobox", name=ZH["profile"], exact=True)
    expect(dropdown.locator("option", has_text=profile["name"])).to_have_count(1)
    formats = page.get_by_role("combobox", name=ZH["exportFormat"])
    expect(formats.locator("option")).to_have_text([ZH["formatZip"], ZH["formatDataset"]])
    # the grid's cells
    dropdown.select_option(profile["id"])
    grid = page.locator("#profile-pool").get_by_role("region", name=ZH["imagePool"])
    expect(grid.get_by_role("status").filter(has_text=z("imageCount", count=2))).to_be_visible()
    first = grid.get_by_role(
        "button", name=z("selectSlot", name=z("slotNameLabel", index=0, label="猫"))
    )
    expect(first).to_have_attribute(
        "title", z("slotTipActive", name=z("slotNameLabel", index=0, label="猫"))
    )
    second = grid.get_by_role("button", name=z("selectSlot", name=z("slotName", index=1)))
    expect(second).to_have_attribute("title", z("slotTip", name=z("slotName", index=1)))
    expect(grid.get_by_role("img", name=z("imageAlt", index=1))).to_have_count(1)
    delete = grid.get_by_role("button", name=z("deleteSlotAria", name=z("slotName", index=1)))
    expect(delete).to_have_attribute("title", ZH["deleteImageTip"])
    label = grid.get_by_role("textbox", name=z("labelAria", index=1))
    expect(label).to_have_attribute("placeholder", ZH["labelPlaceholder"])
    filter_box = grid.get_by_role("searchbox", name=ZH["filterByTag"])
    expect(filter_box).to_have_attribute("placeholder", ZH["filterPlaceholder"])
    filter_box.fill("fro*nt")  # a bad filter says why in the box's title
    expect(filter_box).to_have_attribute("title", z("filterStar", term="fro*nt"))
    filter_box.fill("")

    # an upload that is not an image: its row, state, error and dismiss button
    grid.locator("input[type=file]").set_input_files(
        [{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not an image"}]
    )
    uploads = grid.get_by_role("list", name=ZH["uploads"])
    row = uploads.get_by_role("listitem")
    expect(row.locator(".ppu-state")).to_have_text(ZH["uploadFailed"])
    expect(row.get_by_role("alert")).to_have_text(z("notAnImage", name="notes.txt"))
    row.get_by_role("button", name=z("dismissUploadError", name="notes.txt")).click()
    expect(row).to_have_count(0)

    # a question in the page's own dialog, then a toast with its dismiss button
    page.get_by_role("button", name=ZH["create"], exact=True).click()
    dialog = page.get_by_role("dialog", name=ZH["createTitle"])
    dialog.get_by_role("textbox", name=ZH["createMessage"]).fill("新的")
    expect(dialog.get_by_role("button", name=ZH["cancel"])).to_be_visible()
    dialog.get_by_role("button", name=ZH["ok"]).click()
    toast = page.locator("#toasts").get_by_role("status").filter(has_text=z("created", name="新的"))
    toast.get_by_role("button", name=ZH["dismiss"]).click()
    expect(toast).to_have_count(0)


# The components mounted by hand with the Chinese table, their API held back where a
# state only shows while a request is under way (loading…, 0 %, waiting, importing…).
MOUNT = """async ([poolId]) => {
  const { translator } = await import('/lib/strings.js');
  const { loadTable } = await import('/static/page_i18n.js');
  const t = translator(await loadTable('zh'));
  const { createApi } = await import('/lib/api.js');
  const { createPoolGrid } = await import('/lib/pool_grid.js');
  const { createProfileBar } = await import('/lib/profile_bar.js');
  const api = createApi({ t });
  const never = () => new Promise(() => {});
  window.__release = [];
  const held = {
    ...api,
    addImage: (id, file, opts) => new Promise((ok) => {
      opts.onProgress?.(0, 100);
      window.__release.push(() => api.addImage(id, file, opts).then(ok));
    }),
    getHistory: never,
    importProfile: never,
    deletedProfiles: never,
  };
  const grid = createPoolGrid({ api: held, poolId, t, onOpenMask: () => {} });
  const bar = createProfileBar({ api: held, t });
  const box = document.createElement('div');
  box.id = 'harness';
  box.style.cssText = 'height:420px;width:520px;position:relative';
  box.append(bar.element, grid.element);
  document.body.prepend(box);
}"""


def test_loading_progress_and_messages_are_chinese(zh_page, served):
    page = zh_page
    pool_id = f"zh-{uuid.uuid4().hex[:8]}"
    pools.add_image(served.store(), pool_id, png((40, 10, 10)), label="a")
    page.evaluate(MOUNT, [pool_id])
    harness = page.locator("#harness")
    grid = harness.get_by_role("region", name=ZH["imagePool"])
    expect(grid.locator("li.ppg-cell")).to_have_count(1)

    # the MaskEditor's brush
    brush = grid.get_by_role(
        "button", name=z("editMaskAria", name=z("slotNameLabel", index=0, label="a"))
    )
    expect(brush).to_have_attribute("title", ZH["paintMaskTip"])

    # upload rows: the first under way, the second waiting; then done
    grid.locator("input[type=file]").set_input_files(
        [
            {"name": f"u{i}.png", "mimeType": "image/png", "buffer": png((9, 9, 90 * i))}
            for i in range(2)
        ]
    )
    rows = grid.get_by_role("list", name=ZH["uploads"]).get_by_role("listitem")
    expect(rows.locator(".ppu-state")).to_have_text([z("percent", percent=0), ZH["uploadWaiting"]])
    expect(rows.first.get_by_role("progressbar")).to_have_accessible_name(
        z("uploadingAria", name="u0.png")
    )
    page.evaluate("() => window.__release.shift()()")
    expect(rows.locator(".ppu-state").first).to_have_text(ZH["uploadDone"])

    # the history panel while its versions load
    grid.get_by_role("button", name=ZH["history"], exact=True).click()
    panel = grid.get_by_role("region", name=ZH["poolHistory"])
    expect(panel.get_by_role("status")).to_have_text(ZH["loading"])

    # "Recently deleted" while it loads; a profile import under way
    harness.get_by_role("button", name=ZH["recentlyDeleted"]).click()
    deleted = harness.get_by_role("region", name=ZH["recentlyDeletedProfiles"])
    expect(deleted.get_by_role("status")).to_have_text(ZH["loading"])
    harness.locator(".ppb input[type=file]").set_input_files(
        [{"name": "p.zip", "mimeType": "application/zip", "buffer": b"PK"}]
    )
    expect(harness.locator(".ppb-progress")).to_contain_text(ZH["importing"])

    # messages built in the browser: request errors, the single-writer notice, a
    # dataset import's skipped files, an error without a message
    said = page.evaluate(
        """async () => {
      const { translator } = await import('/lib/strings.js');
      const { loadTable } = await import('/static/page_i18n.js');
      const t = translator(await loadTable('zh'));
      const { createApi } = await import('/lib/api.js');
      const { singleWriterText } = await import('/lib/store_notice.js');
      const { skippedMessage } = await import('/lib/profile_bar.js');
      const { messageOf } = await import('/lib/dom.js');
      const down = createApi({ t, fetch: () => Promise.reject(new Error('x')) });
      const odd = createApi({ t, fetch: async () => new Response('no', { status: 502 }) });
      const skipped = [1, 2, 3].map((i) => ({ name: `f${i}.bmp`, reason: 'why' }));
      return {
        down: await down.listPools().catch((e) => e.message),
        odd: await odd.listPools().catch((e) => e.message),
        notice: singleWriterText({}, t),
        skipped: skippedMessage(skipped, 2, t),
        unknown: messageOf(null, t),
      };
    }"""
    )
    assert said == {
        "down": z("errorUnreachable", error="x"),
        "odd": z("errorAnswered", status=f"502 {ZH['requestFailed']}"),
        "notice": z("singleWriter", why=ZH["singleWriterNoCas"]),
        "skipped": z(
            "skippedFiles",
            count=3,
            files=z("skippedMore", files="f1.bmp: why; f2.bmp: why", count=1),
        ),
        "unknown": ZH["unknownError"],
    }
