"""Opt-in: the in-node UI inside a real ComfyUI, driven in Playwright as a person
would (controls found by role and name). Skipped unless COMFYUI_DIR and
COMFYUI_PYTHON name a ComfyUI that can run (see tests/comfyui_live_support.py), and
unless playwright and Debian's chromium are present.

Every test runs per frontend (the one ComfyUI bundles; also COMFYUI_FRONTEND_ROOT's,
an unzipped comfyui-frontend-package static/ folder, when set), per store (local disk;
S3 on a moto server) and per renderer (classic canvas; the Vue "Nodes 2.0" one). Each
ends by checking that the pack caused no console warning or error. Screenshots go to
$COMFYUI_SCREENSHOTS when set."""

from __future__ import annotations

import os
import re
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from comfyui_live_page import ComfyPage, Files
from comfyui_live_support import (
    FRONTEND_ROOT,
    Client,
    live_only,
    png,
    queue_and_wait,
    s3_env,
    saved_image,
    start_comfyui,
    start_moto,
)
from PIL import Image

from pool_profiles.testing.chromium import browser_missing, launched

pytestmark = live_only

FRONTENDS = {"bundled": ()}
if FRONTEND_ROOT:
    FRONTENDS["newest"] = ("--front-end-root", FRONTEND_ROOT)
SHOTS = Path(os.environ["COMFYUI_SCREENSHOTS"]) if os.environ.get("COMFYUI_SCREENSHOTS") else None
SLOT = re.compile(r"^Select slot \d+")


@dataclass
class Comfy:
    frontend: str
    store: str
    client: Client
    log_path: Path


@pytest.fixture(scope="module")
def moto_live():
    server, endpoint, options = start_moto()
    yield options
    server.stop()


@pytest.fixture(scope="module")
def shared_prefix() -> str:
    return f"ui-{uuid.uuid4().hex[:8]}"


@pytest.fixture(
    scope="module",
    params=[(fe, store) for fe in FRONTENDS for store in ("local", "s3")],
    ids=lambda p: f"{p[0]}-{p[1]}",
)
def comfy(request, tmp_path_factory, shared_prefix):
    frontend, store = request.param
    env: dict[str, str] = {}
    if store == "s3":
        env = s3_env(request.getfixturevalue("moto_live"), shared_prefix)
    tmp = tmp_path_factory.mktemp(f"comfy-{frontend}-{store}")
    gen = start_comfyui(tmp, env, FRONTENDS[frontend])
    client, _base, log_path = next(gen)
    yield Comfy(frontend, store, client, log_path)
    next(gen, None)


@pytest.fixture(scope="module")
def peer(tmp_path_factory, moto_live, shared_prefix):
    """A second ComfyUI on the same S3 store: the colleague on another instance."""
    gen = start_comfyui(tmp_path_factory.mktemp("comfy-peer"), s3_env(moto_live, shared_prefix))
    client, _base, _log = next(gen)
    yield client
    next(gen, None)


@pytest.fixture(scope="module")
def browser():
    missing = browser_missing()
    if missing:
        pytest.skip(missing)
    with launched() as b:
        yield b


@pytest.fixture(params=["classic", "vue"])
def ui(request, comfy, browser):
    context = browser.new_context(viewport={"width": 1500, "height": 950}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    cp = ComfyPage(page, comfy.client, SHOTS)
    cp.name = f"{comfy.frontend}-{comfy.store}-{request.param}"
    cp.open(request.param)
    version = cp.js("() => String(window.__COMFYUI_FRONTEND_VERSION__ || '')")
    major_minor = re.match(r"(\d+)\.(\d+)", version)
    if request.param == "vue" and major_minor and tuple(map(int, major_minor.groups())) < (1, 42):
        context.close()  # README: the Vue renderer before 1.42 draws no custom node widgets
        pytest.skip(f"frontend {version}'s Vue renderer draws no custom node widgets")
    yield cp
    context.close()


def image(color, size=(48, 32)) -> bytes:
    return png(Image.new("RGB", size, color))


def slots(grid):
    return grid.get_by_role("button", name=SLOT)


def pool_view(cp: ComfyPage, pool_id: str) -> dict:
    return cp.client.json("GET", f"/grid_pool/list?pool_id={pool_id}")


def eventually(cp: ComfyPage, check, timeout: float = 15.0):
    """check() until truthy. Waits through Playwright: its dialog handler (confirm /
    prompt answers) only runs while a Playwright call is in progress."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        cp.page.wait_for_timeout(300)


def assert_quiet(cp: ComfyPage) -> None:
    assert cp.pack_console() == [], "the pack caused console warnings or errors"


def test_grid_upload_drop_paste_select_label_reorder_delete(ui):
    from playwright.sync_api import expect

    cp, page = ui, ui.page
    pool = cp.add_node("GridImagePool", (420, 60))
    grid = cp.grid(pool)
    pool_id = cp.widget(pool, "pool_id")
    assert pool_id, "a new pool node mints its pool id"
    expect(grid.get_by_text(re.compile("drop|paste|upload", re.I)).first).to_be_visible()

    # Upload button: four files at once, each with its own progress bar.
    page.evaluate(
        """() => { window.__progress = new Set(); new MutationObserver(() => {
          for (const p of document.querySelectorAll('progress[aria-label^="Uploading"]'))
            window.__progress.add(p.getAttribute('aria-label')); })
          .observe(document.body, {subtree: true, childList: true, attributes: true}); }"""
    )
    with page.expect_file_chooser() as chooser:
        grid.get_by_role("button", name="Upload").click()
    chooser.value.set_files(
        [
            {"name": f"up{i}.png", "mimeType": "image/png", "buffer": image((40 * i, 90, 200))}
            for i in range(4)
        ]
    )
    expect(slots(grid)).to_have_count(4)
    assert len(page.evaluate("() => [...window.__progress]")) >= 1

    # Drop ten images and a broken one: the ten land, the broken one says why.
    dropped = {f"drop{i}.png": image((200, 20 * i, 30)) for i in range(10)}
    dropped["broken.png"] = b"\x89PNG\r\n\x1a\nnot really"
    cp.drop(grid, Files.of(dropped))
    expect(slots(grid)).to_have_count(14, timeout=40_000)
    dismiss = page.get_by_role("button", name="Dismiss the error about broken.png")
    expect(dismiss).to_be_visible()
    dismiss.click()
    # The browser logs the deliberate 400 itself; nothing else may be logged.
    cp.browser_errors = [e for e in cp.browser_errors if "400" not in e]

    # Ctrl+V with the node selected goes into the pool, not into a Load Image node.
    cp.select(pool)
    cp.paste(Files.of({"pasted.png": image((1, 2, 3))}))
    expect(slots(grid)).to_have_count(15, timeout=20_000)
    assert cp.node_ids("LoadImage") == []
    view = pool_view(cp, pool_id)
    assert view["count"] == 15 and view["active"] == 0  # adding never moves the active slot

    # Click to make a slot active.
    third = grid.get_by_role("button", name=re.compile(r"^Select slot 3\b"))
    third.click()
    expect(third).to_have_attribute("aria-pressed", "true")
    assert eventually(cp, lambda: pool_view(cp, pool_id)["active"] == 3)

    # Inline label editing; a hostile label is text.
    label = grid.get_by_role("textbox", name="Label of slot 2")
    label.fill("<b>cat</b>")
    label.press("Enter")
    assert eventually(cp, lambda: pool_view(cp, pool_id)["slots"][2]["label"] == "<b>cat</b>")
    assert grid.locator("b").count() == 0
    expect(grid.get_by_role("textbox", name="Label of slot 2")).to_have_value("<b>cat</b>")

    # Reorder from the keyboard (Alt+Arrow moves the focused slot).
    first = pool_view(cp, pool_id)["slots"][0]["image"]
    grid.get_by_role("button", name=re.compile(r"^Select slot 0\b")).focus()
    page.keyboard.press("Alt+ArrowRight")
    assert eventually(cp, lambda: pool_view(cp, pool_id)["slots"][1]["image"] == first)

    # Delete asks first (ComfyUI's dialog); dismissing keeps the slot, accepting removes it.
    cp.answer("Delete slot 14", False)
    grid.get_by_role("button", name=re.compile(r"^Delete slot 14\b")).click()
    page.wait_for_timeout(500)
    assert pool_view(cp, pool_id)["count"] == 15
    cp.answer("Delete slot 14", True)
    grid.get_by_role("button", name=re.compile(r"^Delete slot 14\b")).click()
    expect(slots(grid)).to_have_count(14)
    assert len(cp.dialogs) == 2 and all("slot 14" in d for d in cp.dialogs)
    thumbs = grid.get_by_role("img")
    assert thumbs.count() >= 1
    assert "/thumb" in (thumbs.first.get_attribute("src") or "")
    cp.shot(f"grid-{cp.name}")
    assert_quiet(cp)


def test_mask_editor_paints_the_slot_mask(ui, comfy):
    from playwright.sync_api import expect

    cp, page = ui, ui.page
    pool = cp.add_node("GridImagePool", (420, 60))
    grid = cp.grid(pool)
    pool_id = cp.widget(pool, "pool_id")
    cp.drop(grid, Files.of({"m.png": image((90, 90, 200), (256, 192))}))
    expect(slots(grid)).to_have_count(1)

    grid.get_by_role("button", name="Edit the mask of slot 0").click()
    save = page.locator("button:visible", has_text=re.compile(r"^\s*Save\s*$"))
    expect(save).to_be_visible(timeout=30_000)
    page.wait_for_timeout(1000)  # the editor draws the staged image before it takes strokes
    page.mouse.move(400, 450)
    page.mouse.down()
    for x in range(400, 950, 25):
        page.mouse.move(x, 450 + (x % 50))
    page.mouse.up()
    save.click()
    assert eventually(cp, lambda: pool_view(cp, pool_id)["slots"][0]["has_mask"], 30)
    expect(grid.get_by_role("img", name="has a mask")).to_be_visible()
    cp.shot(f"mask-{cp.name}")

    graph = {
        "2": {"class_type": "GridImagePool", "inputs": {"index": 0, "pool_id": pool_id}},
        "4": {"class_type": "MaskToImage", "inputs": {"mask": ["2", 1]}},
        "5": {
            "class_type": "SaveImage",
            "inputs": {"images": ["4", 0], "filename_prefix": f"mask_ui_{cp.name}"},
        },
    }
    mask = saved_image(cp.client, queue_and_wait(cp.client, graph, comfy.log_path), "5")
    assert mask.shape[:2] == (192, 256)
    painted = int((mask[..., 0] > 127).sum())
    assert 500 < painted < 192 * 256 // 2, painted
    assert_quiet(cp)


def test_copy_paste_gives_the_copy_its_own_pool(ui):
    from playwright.sync_api import expect

    cp, page = ui, ui.page
    pool = cp.add_node("GridImagePool", (420, 60))
    grid = cp.grid(pool)
    cp.drop(grid, Files.of({f"c{i}.png": image((9 * i, 50, 50)) for i in range(3)}))
    expect(slots(grid)).to_have_count(3)
    source = cp.widget(pool, "pool_id")

    page.locator("#graph-canvas").click(position={"x": 1000, "y": 700})  # focus the canvas
    cp.select(pool)
    page.keyboard.press("Control+c")
    page.mouse.move(1000, 300)
    page.keyboard.press("Control+v")
    assert eventually(cp, lambda: len(cp.node_ids("GridImagePool")) == 2)
    copy = next(n for n in cp.node_ids("GridImagePool") if n != pool)
    copied = eventually(cp, lambda: (cp.widget(copy, "pool_id") or source) != source)
    copied = cp.widget(copy, "pool_id")
    assert copied and copied != source
    expect(slots(cp.grid(copy))).to_have_count(3)
    assert [s["image"] for s in pool_view(cp, copied)["slots"]] == [
        s["image"] for s in pool_view(cp, source)["slots"]
    ]
    # Their own pools: a change to the copy leaves the original alone.
    cp.answer("Delete slot 0", True)
    cp.grid(copy).get_by_role("button", name=re.compile(r"^Delete slot 0\b")).click()
    expect(slots(cp.grid(copy))).to_have_count(2)
    assert pool_view(cp, source)["count"] == 3
    assert_quiet(cp)


def test_profile_bar_create_rename_switch_export_duplicate_delete_import(ui):
    from playwright.sync_api import expect

    cp, page = ui, ui.page
    pool = cp.add_node("GridImagePool", (420, 60))
    prof = cp.add_node("PoolProfile", (20, 60))
    grid, bar = cp.grid(pool), cp.bar(prof)
    cp.drop(grid, Files.of({f"s{i}.png": image((30 * i, 60, 90)) for i in range(3)}))
    expect(slots(grid)).to_have_count(3)
    cp.connect(prof, pool, "profile")

    # Create an empty profile while the connected pool holds images: a toast says the
    # images can be copied in (no question pops up); the node's menu item does it.
    name = f"Prof {uuid.uuid4().hex[:5]}"
    cp.answer("Name of the new profile", name)
    bar.get_by_role("button", name="Create", exact=True).click()
    dropdown = bar.get_by_role("combobox", name="Profile")
    expect(dropdown.locator("option:checked")).to_have_text(name)
    profile_id = eventually(cp, lambda: cp.widget(prof, "profile_id"))
    assert cp.widget(prof, "profile") == name
    offer = page.locator(".p-toast-message, [role=status]").filter(has_text="Copy images from")
    expect(offer.first).to_be_visible()
    assert pool_view(cp, profile_id)["count"] == 0 and len(cp.dialogs) == 1
    cp.menu_item(prof, "Copy images from the connected pool")
    assert eventually(cp, lambda: pool_view(cp, profile_id)["count"] == 3)
    expect(slots(grid)).to_have_count(3)

    # The grid shows (and edits) the profile's pool: a click sets its active slot.
    grid.get_by_role("button", name=re.compile(r"^Select slot 1\b")).click()
    assert eventually(cp, lambda: pool_view(cp, profile_id)["active"] == 1)
    prompt = cp.js("async () => (await app.graphToPrompt()).output")
    by_type = {n["class_type"]: n["inputs"] for n in prompt.values()}
    assert by_type["PoolProfile"]["profile_id"] == profile_id
    assert by_type["PoolProfile"]["profile"] == name

    # A name collision shows the server's message as a toast (or inline alert).
    other = f"Other {uuid.uuid4().hex[:5]}"
    cp.client.json("POST", "/grid_pool/profiles/create", {"name": other})
    cp.answer("New name for", other)
    bar.get_by_role("button", name="Rename").click()
    toast = page.locator(".p-toast-message, [role=alert]").filter(has_text=re.compile("exist"))
    expect(toast.first).to_be_visible()
    # The collision came as a 409 from our route; the browser logged it.
    cp.browser_errors = [e for e in cp.browser_errors if "409" not in e]

    # A profile made elsewhere shows when the dropdown opens; picking it switches
    # the grid at once.
    dropdown.focus()
    expect(dropdown.locator("option", has_text=other)).to_have_count(1)
    # It is empty and the node's own pool holds images: a toast says so, nothing asks
    # and nothing is copied unless the menu item is used.
    asked = len(cp.dialogs)
    dropdown.select_option(label=other)
    expect(slots(grid)).to_have_count(0)
    assert cp.widget(prof, "profile") == other
    offer = page.locator(".p-toast-message, [role=status]").filter(has_text=f"“{other}” is empty")
    expect(offer.first).to_be_visible()
    assert len(cp.dialogs) == asked
    assert pool_view(cp, cp.widget(prof, "profile_id"))["count"] == 0
    dropdown.select_option(label=name)
    expect(slots(grid)).to_have_count(3)

    # Rename works when the name is free.
    renamed = name + " r"
    cp.answer("New name for", renamed)
    bar.get_by_role("button", name="Rename").click()
    expect(dropdown.locator("option:checked")).to_have_text(renamed)
    assert eventually(cp, lambda: cp.widget(prof, "profile") == renamed)
    cp.shot(f"profile-bar-{cp.name}")

    # Export downloads a zip of the profile.
    with page.expect_download() as download:
        bar.get_by_role("button", name="Export").click()
    exported = download.value.path()
    with zipfile.ZipFile(exported) as zf:
        assert any(n.endswith("manifest.json") for n in zf.namelist())

    cp.answer("Name of the copy", renamed + " copy")
    bar.get_by_role("button", name="Duplicate").click()
    expect(dropdown.locator("option", has_text=renamed + " copy")).to_have_count(1)

    # Delete confirms; the deleted profile leaves the dropdown.
    cp.answer("Delete profile", True)
    current = cp.widget(prof, "profile")
    bar.get_by_role("button", name="Delete", exact=True).click()
    gone = dropdown.locator("option", has_text=re.compile(f"^{re.escape(current)}$"))
    expect(gone).to_have_count(0)

    # Import the exported zip back: it comes in under its own name (suffixed when taken).
    with page.expect_file_chooser() as chooser:
        bar.get_by_role("button", name="Import").click()
    chooser.value.set_files(exported)
    imported = re.compile(f"^{re.escape(renamed)}( \\(\\d+\\))?$")
    expect(dropdown.locator("option", has_text=imported)).to_have_count(1, timeout=30_000)
    expect(dropdown.locator("option:checked")).to_have_text(imported)  # and picks it
    expect(slots(grid)).to_have_count(3)

    # Loading the saved workflow keeps the grid in step with the picked profile.
    dropdown.select_option(label=other)
    expect(slots(grid)).to_have_count(0)
    cp.js(
        "async () => { const w = app.graph.serialize(); app.graph.clear();"
        " await app.loadGraphData(w); }"
    )
    loaded_pool = cp.node_ids("GridImagePool")[0]
    expect(slots(cp.grid(loaded_pool))).to_have_count(0)
    loaded_prof = cp.node_ids("PoolProfile")[0]
    assert cp.widget(loaded_prof, "profile") == other
    assert_quiet(cp)


def test_a_change_on_another_instance_appears_without_reload(ui, comfy, request):
    from playwright.sync_api import expect

    if comfy.store != "s3":
        pytest.skip("the two-instance case is the shared S3 store's")
    peer = request.getfixturevalue("peer")
    cp = ui
    name = f"Shared {uuid.uuid4().hex[:5]}"
    profile_id = cp.client.json("POST", "/grid_pool/profiles/create", {"name": name})["id"]
    pool = cp.add_node("GridImagePool", (420, 60))
    prof = cp.add_node("PoolProfile", (20, 60))
    cp.connect(prof, pool, "profile")
    grid, bar = cp.grid(pool), cp.bar(prof)
    dropdown = bar.get_by_role("combobox", name="Profile")
    dropdown.focus()
    dropdown.select_option(label=name)
    expect(slots(grid)).to_have_count(0)
    cp.page.locator("#graph-canvas").click(position={"x": 1000, "y": 700})  # blur

    # The colleague adds two images to the profile and creates another profile.
    for i in range(2):
        peer.multipart("/grid_pool/add", {"pool_id": profile_id}, {"image": image((70 * i, 9, 9))})
    later = f"Later {uuid.uuid4().hex[:5]}"
    peer.json("POST", "/grid_pool/profiles/create", {"name": later})
    expect(slots(grid)).to_have_count(2, timeout=20_000)
    expect(dropdown.locator("option", has_text=later)).to_have_count(1, timeout=20_000)

    # Their rename shows too, and the node's hidden name follows it.
    peer.json("POST", "/grid_pool/profiles/rename", {"id": profile_id, "name": name + " v2"})
    expect(dropdown.locator("option:checked")).to_have_text(name + " v2", timeout=20_000)
    assert eventually(cp, lambda: cp.widget(prof, "profile") == name + " v2")
    cp.shot(f"live-{cp.name}")
    assert_quiet(cp)
