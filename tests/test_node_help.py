"""Every node has a help page for the frontend's node help panel (web/docs/<Class>.md,
plus en and zh pages under web/docs/<Class>/) and node-definition translations in
English and Simplified Chinese (locales/<lang>/nodeDefs.json, the schema ComfyUI's
/i18n route and the frontend read): display name, description, every input and every
output, each with a name and a tooltip."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")

from pool_profiles.nodes import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "web" / "docs"
LANGUAGES = ("en", "zh")
CJK = re.compile(r"[\u4e00-\u9fff]")


def input_names(cls: Any) -> list[str]:
    spec = cls.INPUT_TYPES()
    return [name for part in ("required", "optional") for name in spec.get(part, {})]


def node_defs(lang: str) -> dict[str, Any]:
    path = ROOT / "locales" / lang / "nodeDefs.json"
    return json.loads(path.read_text(encoding="utf-8"))  # invalid JSON fails here


def test_there_are_nodes_to_check():
    assert {"GridImagePool", "PoolProfile"} <= set(NODE_CLASS_MAPPINGS)


@pytest.mark.parametrize("name", sorted(NODE_CLASS_MAPPINGS))
def test_every_node_has_a_help_page_in_each_language(name):
    cls = NODE_CLASS_MAPPINGS[name]
    fallback = DOCS / f"{name}.md"
    assert fallback.is_file(), f"web/docs/{name}.md is missing"
    text = fallback.read_text(encoding="utf-8")
    assert text.startswith(f"# {NODE_DISPLAY_NAME_MAPPINGS[name]}\n")
    # The English locale's own page is the fallback itself (no 404 for English users).
    assert (DOCS / name / "en.md").read_text(encoding="utf-8") == text
    zh = (DOCS / name / "zh.md").read_text(encoding="utf-8")
    assert zh.startswith("# ") and CJK.search(zh.splitlines()[0])
    for page in (text, zh):
        for field in [*input_names(cls), *cls.RETURN_NAMES]:
            assert f"`{field}`" in page, f"{name}: `{field}` is not described"


def test_web_docs_holds_only_markdown():
    # ComfyUI loads every .js under web/ as an extension: nothing but pages here.
    files = [p for p in DOCS.rglob("*") if p.is_file()]
    assert files and all(p.suffix == ".md" for p in files), files
    pages = {p.relative_to(DOCS).as_posix() for p in files}
    expected = {f"{n}.md" for n in NODE_CLASS_MAPPINGS}
    expected |= {f"{n}/{lang}.md" for n in NODE_CLASS_MAPPINGS for lang in LANGUAGES}
    assert pages == expected  # no page of a node that does not exist


@pytest.mark.parametrize("lang", LANGUAGES)
def test_node_defs_cover_every_node_input_and_output(lang):
    defs = node_defs(lang)
    assert set(defs) == set(NODE_CLASS_MAPPINGS)
    for name, cls in NODE_CLASS_MAPPINGS.items():
        entry = defs[name]
        assert set(entry) == {"display_name", "description", "inputs", "outputs"}, name
        assert entry["display_name"].strip() and entry["description"].strip()
        assert set(entry["inputs"]) == set(input_names(cls)), name
        # outputs are keyed by position, as the frontend looks them up
        assert set(entry["outputs"]) == {str(i) for i in range(len(cls.RETURN_TYPES))}, name
        for part in ("inputs", "outputs"):
            for key, item in entry[part].items():
                assert set(item) == {"name", "tooltip"}, (name, part, key)
                assert item["name"].strip() and item["tooltip"].strip(), (name, part, key)


def test_english_node_defs_match_the_python_definitions():
    defs = node_defs("en")
    for name, cls in NODE_CLASS_MAPPINGS.items():
        entry = defs[name]
        assert entry["display_name"] == NODE_DISPLAY_NAME_MAPPINGS[name]
        assert entry["description"] == cls.DESCRIPTION
        assert [entry["inputs"][k]["name"] for k in input_names(cls)] == input_names(cls)
        names = [entry["outputs"][str(i)]["name"] for i in range(len(cls.RETURN_NAMES))]
        assert names == list(cls.RETURN_NAMES)


def test_chinese_node_defs_are_translated():
    defs = node_defs("zh")
    for name, entry in defs.items():
        texts = [entry["display_name"], entry["description"]]
        texts += [i["tooltip"] for part in ("inputs", "outputs") for i in entry[part].values()]
        untranslated = [t for t in texts if not CJK.search(t)]
        assert untranslated == [], name
