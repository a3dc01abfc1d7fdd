"""Store keys are relative, '/'-separated paths. They are checked here once, so no
key can climb out of a store's root whatever backend sits below.

Segments starting with '.' are reserved for the store itself (temporary files, locks)
and are hidden from listings."""

from __future__ import annotations

import re

from ..errors import ValidationError

_SEGMENT = re.compile(r"^[A-Za-z0-9_@+=,-][A-Za-z0-9_.@+=,-]{0,199}\Z")  # not "$": "a\n" matches it


def check_key(key: str, *, allow_root: bool = False) -> str:
    """Return `key` without leading/trailing '/', or raise ValidationError."""
    if not isinstance(key, str):
        raise ValidationError("storage key must be text")
    stripped = key.strip("/")
    if not stripped:
        if allow_root:
            return ""
        raise ValidationError("storage key is empty")
    for seg in stripped.split("/"):
        if not _SEGMENT.match(seg):
            raise ValidationError(f"storage key has a bad segment: {seg[:80]!r}")
    return stripped


def is_hidden(name: str) -> bool:
    return name.startswith(".")


def join(*parts: str) -> str:
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))
