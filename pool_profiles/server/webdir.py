"""Where the shared browser components (web/lib) and the pack's UI strings
(locales/<lang>/main.json) are, so the standalone page mounts the very files ComfyUI
loads. In a checkout (or an editable install, or a clone in custom_nodes/) they are the
repo's web/lib and locales/; a built wheel carries a copy inside the package
(pool_profiles/_web/lib and _web/locales, see setup.py)."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent
#: the copy a wheel carries, then the checkout's own folder
CANDIDATES = (_PACKAGE / "_web" / "lib", _PACKAGE.parent / "web" / "lib")
#: a file every real copy has: a stray "web/lib" next to site-packages is not ours
MARKER = "pool_grid.js"


#: the languages the page is translated into; the only names ever looked up
PAGE_LANGS = ("en", "zh")
LOCALE_CANDIDATES = (_PACKAGE / "_web" / "locales", _PACKAGE.parent / "locales")


def web_lib_dir() -> Path | None:
    for candidate in CANDIDATES:
        if (candidate / MARKER).is_file():
            return candidate
    return None


def locale_files() -> dict[str, Path]:
    """{lang: its main.json} for each of PAGE_LANGS found (none: the page stays English)."""
    for candidate in LOCALE_CANDIDATES:
        english = candidate / "en" / "main.json"
        # ours: a stray "locales" folder next to site-packages is not
        if english.is_file() and '"poolProfiles"' in english.read_text("utf-8", "replace"):
            files = {lang: candidate / lang / "main.json" for lang in PAGE_LANGS}
            return {lang: path for lang, path in files.items() if path.is_file()}
    return {}
