"""Keeping credentials out of logs, errors and HTTP responses: only a store's URL is
ever shown (never its options), and without the parts of a URL that can hold secrets."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def public_url(url: str) -> str:
    """The store URL without user info, query or fragment (they can carry secrets)."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
