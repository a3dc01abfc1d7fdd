"""No user-visible English is hard-coded in the browser code: every text a person reads
(textContent, title, aria-label, placeholder, alt, toasts, menu items, errors the UI
shows) comes from the strings table (web/lib/strings.js = locales/en/main.json, with
locales/zh/main.json beside it). A static scan of web/**/*.js and the standalone page's
scripts for string literals put where people read them; and the pages' HTML holds only
text that is marked data-i18n with its English from the table."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "pool_profiles" / "server" / "static"
SCRIPTS = sorted(
    [p for p in (ROOT / "web").rglob("*.js") if p.name != "strings.js"]
    + sorted(STATIC.glob("*.js"))
)
EN = json.loads((ROOT / "locales" / "en" / "main.json").read_text("utf-8"))["poolProfiles"]
ZH = json.loads((ROOT / "locales" / "zh" / "main.json").read_text("utf-8"))["poolProfiles"]

# A JS string literal: "...", '...' or `...` (a template's ${...} parts are code).
LITERAL = r"""("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`)"""
VISIBLE_PROPS = r"(?:textContent|innerText|title|placeholder|alt|ariaLabel)"
VISIBLE_ATTRS = r"(?:aria-label|aria-description|aria-roledescription|title|placeholder|alt)"
# Where a visible text starts: the expression after each of these is what people read.
SINKS = {
    "assigned to a visible property": rf"\.{VISIBLE_PROPS}\s*=(?!=)",
    "set as a visible attribute": rf"""setAttribute\(\s*["']{VISIBLE_ATTRS}["']\s*,""",
    "a visible element prop": (
        r"(?<![\w.-])(?:text|title|placeholder|alt|label|tooltip|content|summary|detail|message"
        rf"""|["']{VISIBLE_ATTRS}["'])\s*:(?!:)"""
    ),
    "a toast": r"""notify\??\.?\(\s*["']\w+["']\s*,""",
    "an error the UI shows": r"new (?:Api)?Error\(",
    "a browser box": r"(?<![\w.])(?:alert|confirm|prompt)\(",
    "returned (a text helper's answer)": r"\breturn\b",
}
# A key looked up in the table is no text: the first argument of t(...).
LOOKUP = re.compile(r"(?<![\w$])(?:t|tEn|translate|host\.t)\(")


def _extent(text: str, start: int) -> str:
    """The expression starting at `start`: up to a ";" or line end, or a "," or closing
    bracket that is not its own."""
    depth, i = 0, start
    while i < len(text):
        c = text[i]
        if c in "\"'`":
            m = re.compile(LITERAL).match(text, i)
            i = m.end() if m else i + 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and (c in ";,\n"):
            if c != "\n" or text[start:i].strip():
                break
        i += 1
    return text[start:i]


def _words(literal: str) -> str:
    """The literal's own text (a template's ${...} parts removed)."""
    body = literal[1:-1]
    if literal.startswith("`"):
        body = re.sub(r"\$\{[^}]*\}", "", body)
    return body


def _english(literal: str) -> bool:
    return bool(re.search(r"[A-Za-z]{2,}", _words(literal)))


def _frontend_translated() -> set[str]:
    """Setting names/tooltips and command labels: English in the entry by design, shown
    by the frontend from settings.json / commands.json (tests/test_locales.py)."""
    out: set[str] = set()
    for name in ("settings.json", "commands.json"):
        doc = json.loads((ROOT / "locales" / "en" / name).read_text("utf-8"))
        for entry in doc.values():
            out.update(entry.values())
    return out


def _without_keys(expr: str) -> str:
    """The expression with the keys it looks up (t's first argument) left out."""
    out, last = [], 0
    for m in LOOKUP.finditer(expr):
        if m.start() < last:
            continue
        key = _extent(expr, m.end())
        out.append(expr[last : m.end()] + re.sub(LITERAL, "KEY", key))
        last = m.end() + len(key)
    return "".join(out) + expr[last:]


def _sentence(literal: str) -> bool:
    """Words with a space between them, or ending like a sentence or a status."""
    words = _words(literal)
    return bool(re.search(r"[A-Za-z]\s+\S|[A-Za-z](?:…|\.\.\.|[.:])\s*$", words))


def offenders(text: str, allowed: set[str] = frozenset()) -> list[str]:
    code = re.sub(r"(?m)^[ \t]*//.*$", "", text)  # whole-line comments
    found = []
    for what, pattern in SINKS.items():
        for m in re.finditer(pattern, code):
            expr = _without_keys(_extent(code, m.end()))
            for lit in re.finditer(LITERAL, expr):
                literal = lit.group(1)
                if what.startswith("returned") and not _sentence(literal):
                    continue  # an answer such as "paste" or "image/png" is no text
                if _english(literal) and _words(literal) not in allowed:
                    line = code.count("\n", 0, m.start()) + 1
                    found.append(f"line {line}: {literal} ({what})")
    return found


def test_the_scan_finds_what_it_must():
    # Each kind of hard-coded text this test exists for, and what it must let through.
    bad = """
      r.state.textContent = "failed";
      cell.del.title = "Delete this image";
      status.textContent = `store unavailable: ${err.message}`;
      close.setAttribute("aria-label", "Dismiss");
      el("ul", { class: "ppu-list", "aria-label": "Uploads" });
      el("span", { text: "waiting" });
      { content: "Pool: refresh", callback };
      notify("error", "This ComfyUI has no MaskEditor to open.");
      notify("success", `Mask stored on slot ${slot.index}.`);
      reject(new Error("cannot encode the mask"));
      input.placeholder = 'label…';
    """
    assert len(offenders(bad)) == 11, offenders(bad)
    good = """
      r.state.textContent = t("uploadFailed");
      status.textContent = `${shown} · ${total}`;
      el("button", { type: "button", class: "ppg-tool ppg-delete", text: "✕" });
      el("option", { value: p.id, text: p.name });
      cell.badge.textContent = String(slot.index);
      notify("error", messageOf(err, t));
      el("span", { class: "ppl-name", text: name, title: entry.id });
      total.textContent = `${entries.length} · ${formatBytes(bytes)}`;
    """
    assert offenders(good) == []


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_hard_coded_english_reaches_the_user(path):
    allowed = _frontend_translated() if path.name == "pool_profiles.js" else set()
    assert offenders(path.read_text("utf-8"), allowed) == []


# -- the standalone pages' HTML -------------------------------------------------------


class _Texts(HTMLParser):
    """Each piece of text with the data-i18n key of the element around it."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, str | None]] = []
        self.texts: list[tuple[str | None, str]] = []
        self.keys: list[str] = []
        self.attrs: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "data-i18n" in a:
            self.keys.append(a["data-i18n"])
        for name in ("title", "placeholder", "aria-label", "alt"):
            if a.get(name):
                self.attrs.append((name, a[name]))
        if tag not in ("meta", "link", "input", "br", "img"):
            self.stack.append((tag, a.get("data-i18n")))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        text = " ".join(data.split())
        if not text or (self.stack and self.stack[-1][0] in ("style", "script")):
            return
        self.texts.append((self.stack[-1][1] if self.stack else None, text))


@pytest.mark.parametrize("name", ["index.html", "login.html"])
def test_the_pages_text_is_marked_with_its_key_and_english_from_the_table(name):
    page = _Texts()
    page.feed((STATIC / name).read_text("utf-8"))
    assert page.texts and page.attrs == []
    for key, text in page.texts:
        assert key is not None, f"{name}: unmarked text {text!r}"
        assert key in EN and key in ZH, f"{name}: {key} is not in the tables"
        assert EN[key] == text, f"{name}: {text!r} is not the table's English of {key}"
    assert len(page.keys) == len(page.texts)  # every marked element holds its text only


def test_the_sign_in_error_is_marked_too():
    from pool_profiles.server.auth import TokenAuth

    response = TokenAuth("x" * 20).login_page(401, EN["wrongToken"], "wrongToken")
    page = _Texts()
    page.feed(response.text)
    assert ("wrongToken", EN["wrongToken"]) in page.texts
