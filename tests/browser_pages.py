"""A fresh browser page with its console errors collected, for the browser tests
(tests/ is on pytest's pythonpath)."""

from __future__ import annotations

from typing import Any


def open_page(browser: Any, **options: Any) -> tuple[Any, Any, list[str]]:
    """(context, page, errors): console errors and page errors land in `errors`."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    return context, page, errors
