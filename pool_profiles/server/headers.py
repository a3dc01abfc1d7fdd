"""Browser security headers of `pool-profiles serve` (never of ComfyUI: its own server
sets its own policies, and the pack's routes inside it are added without these).

The page runs only its own module scripts (no inline script, no eval); the components
inject their look as <style> elements, hence 'unsafe-inline' for styles only. Every
other answer (JSON, images, scripts, errors) gets a policy that allows nothing, so an
image or file opened directly in a tab can never run anything either."""

from __future__ import annotations

from aiohttp import web

PAGE_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
RESOURCE_POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox"

COMMON_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` on
    # its own POSTs, which the same-origin check of writes must refuse.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


#: the documents: "/" (the page, or the sign-in form) and the sign-in form's own path
PAGE_PATHS = frozenset({"/", "/login"})


def is_page(request: web.Request, response: web.StreamResponse) -> bool:
    # By path, not only by type: a 304 revalidating the page has no type, and a browser
    # merges the 304's headers into the page it keeps.
    return request.path in PAGE_PATHS or (response.content_type or "").lower() == "text/html"


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare hook: runs for every answer, errors and static files too."""
    for name, value in COMMON_HEADERS.items():
        response.headers.setdefault(name, value)
    policy = PAGE_POLICY if is_page(request, response) else RESOURCE_POLICY
    response.headers.setdefault("Content-Security-Policy", policy)


def install(app: web.Application) -> None:
    app.on_response_prepare.append(add_security_headers)
