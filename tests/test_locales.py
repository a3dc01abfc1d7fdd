"""The pack's translations (locales/<lang>/main.json, settings.json, commands.json, as
ComfyUI serves them at /i18n): English equals the table the components carry
(web/lib/strings.js), every language has the same keys and placeholders, and the
settings and commands the extension registers are the ones translated."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
LANGS = sorted(p.name for p in LOCALES.iterdir() if p.is_dir())
FILES = ("main.json", "settings.json", "commands.json")


def load(lang: str, name: str) -> dict:
    return json.loads((LOCALES / lang / name).read_text("utf-8"))


def js_table() -> dict:
    text = (ROOT / "web" / "lib" / "strings.js").read_text("utf-8")
    start = text.index("export const EN = ") + len("export const EN = ")
    return json.loads(text[start : text.index(";\n// end of EN")])


def flat(doc: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in doc.items():
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


def test_english_is_the_components_table():
    main = load("en", "main.json")
    assert main["poolProfiles"] == js_table()
    # besides the pack's own table, only the frontend's setting categories
    assert set(main) == {"poolProfiles", "settingsCategories"}


def test_simplified_chinese_is_there():
    assert "zh" in LANGS and "en" in LANGS


@pytest.mark.parametrize("lang", [lang for lang in LANGS if lang != "en"])
@pytest.mark.parametrize("name", FILES)
def test_every_language_has_every_string_with_its_placeholders(lang, name):
    en, other = flat(load("en", name)), flat(load(lang, name))
    assert set(other) == set(en)
    for key, text in en.items():
        assert isinstance(other[key], str) and other[key].strip(), key
        assert placeholders(other[key]) == placeholders(text), key


def test_settings_and_commands_translated_are_the_registered_ones():
    entry = (ROOT / "web" / "pool_profiles.js").read_text("utf-8")
    consts = dict(re.findall(r'const (SETTING_\w+|COMMAND_\w+) = "([^"]+)"', entry))
    settings = {v.replace(".", "_") for k, v in consts.items() if k.startswith("SETTING_")}
    commands = {v.replace(".", "_") for k, v in consts.items() if k.startswith("COMMAND_")}
    # The frontend looks them up as settings.<id with "." as "_">.name / commands...label.
    assert set(load("en", "settings.json")) == settings and settings
    assert set(load("en", "commands.json")) == commands and commands
    for key, value in load("en", "settings.json").items():
        assert f'name: "{value["name"]}"' in entry, key
        assert f'tooltip: "{value["tooltip"]}"' in entry, key
    for key, value in load("en", "commands.json").items():
        assert f'label: "{value["label"]}"' in entry, key


def test_the_setting_categories_are_translated():
    # The settings dialog shows a setting's category and subcategory (its first two
    # names) as settingsCategories.<name> of the frontend's messages, where main.json's
    # top-level keys go.
    entry = (ROOT / "web" / "pool_profiles.js").read_text("utf-8")
    used = set()
    for names in re.findall(r"category: \[([^\]]*)\]", entry):
        used.update(json.loads(f"[{names}]")[:2])
    assert used
    for lang in LANGS:
        assert set(load(lang, "main.json")["settingsCategories"]) == used, lang
