"""Opt-in: the node help pages and translations inside a real ComfyUI (see
tests/comfyui_live_support.py for COMFYUI_DIR / COMFYUI_PYTHON / COMFYUI_FRONTEND_ROOT).
ComfyUI serves web/docs/ where the frontend's help panel fetches it
(/extensions/<pack folder>/docs/<Class>.md, then <Class>/<locale>.md) and merges
locales/<lang>/nodeDefs.json into /i18n; with the Chinese locale the frontend shows the
nodes' translated names, inputs and outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from comfyui_live_page import ComfyPage
from comfyui_live_support import FRONTEND_ROOT, live_only, start_comfyui

from pool_profiles.testing.chromium import browser_missing, launched

pytestmark = live_only

ROOT = Path(__file__).resolve().parent.parent
PACK = "comfyui-pool-profiles"  # the folder name start_comfyui links into custom_nodes
NODES = ("GridImagePool", "PoolProfile")
FRONTENDS = {"bundled": ()}
if FRONTEND_ROOT:
    FRONTENDS["newest"] = ("--front-end-root", FRONTEND_ROOT)


@pytest.fixture(scope="module", params=list(FRONTENDS))
def comfy(request, tmp_path_factory):
    gen = start_comfyui(
        tmp_path_factory.mktemp(f"help-{request.param}"), {}, FRONTENDS[request.param]
    )
    client, _base, _log = next(gen)
    yield client
    next(gen, None)


def node_defs(lang: str) -> dict:
    return json.loads((ROOT / "locales" / lang / "nodeDefs.json").read_text(encoding="utf-8"))


def test_help_pages_and_translations_are_served(comfy):
    for node in NODES:
        for page in (f"{node}.md", f"{node}/en.md", f"{node}/zh.md"):
            status, body = comfy.request("GET", f"/extensions/{PACK}/docs/{page}")
            assert status == 200, page
            assert body == (ROOT / "web" / "docs" / page).read_bytes(), page
    i18n = json.loads(comfy.request("GET", "/i18n")[1])
    for lang in ("en", "zh"):
        ours = node_defs(lang)
        assert {k: i18n[lang]["nodeDefs"][k] for k in ours} == ours, lang


@pytest.fixture(scope="module")
def browser():
    missing = browser_missing()
    if missing:
        pytest.skip(missing)
    with launched() as b:
        yield b


def test_the_frontend_shows_the_nodes_in_chinese(comfy, browser):
    comfy.request(
        "POST", "/api/settings/Comfy.Locale", b'"zh"', {"Content-Type": "application/json"}
    )
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        cp = ComfyPage(context.new_page(), comfy, None)
        cp.open("classic")
        zh = node_defs("zh")
        for node in NODES:
            shown = cp.js(
                """(type) => {
                  const n = LiteGraph.createNode(type);
                  app.graph.add(n);
                  const label = (s) => s.label || s.localized_name || s.name;
                  return { title: n.title, outputs: n.outputs.map(label),
                           inputs: n.inputs.map((i) => [i.name, label(i)]) };
                }""",
                node,
            )
            assert shown["title"] == zh[node]["display_name"]
            expected = [zh[node]["outputs"][str(i)]["name"] for i in range(len(shown["outputs"]))]
            assert shown["outputs"] == expected
            for name, label in shown["inputs"]:  # linkable inputs (profile on the pool node)
                assert label == zh[node]["inputs"][name]["name"], name
        assert cp.pack_console() == []
    finally:
        comfy.request(
            "POST", "/api/settings/Comfy.Locale", b'"en"', {"Content-Type": "application/json"}
        )
        context.close()
