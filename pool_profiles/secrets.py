"""Keeping credentials out of logs, errors and HTTP responses: only a store's URL is
ever shown (never its options), and without the parts of a URL that can hold secrets."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

# "scheme://user:password@" anywhere in a text (an endpoint URL quoted in an error).
_USER_INFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^\s/@\"']+@")


def public_url(url: str) -> str:
    """The store URL without user info, query or fragment (they can carry secrets)."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def scrub(text: str) -> str:
    """`text` (an error message) with the user info of every URL in it removed."""
    return _USER_INFO.sub(r"\g<scheme>", text)
