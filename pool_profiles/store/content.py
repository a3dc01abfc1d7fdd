"""Documents as bytes: how they are encoded, and their content versions (sha256),
with the memos that spare hashing the same bytes twice."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from typing import Any

#: Documents whose last hashed bytes a Store keeps (ContentHashes).
HASHED_DOCUMENTS = 8

_last_hashed: tuple[bytes, str] = (b"", hashlib.sha256(b"").hexdigest())


def content_version(data: bytes) -> str:
    """The sha256 of `data` (hex). The last one is remembered by identity (the bytes
    object is held, so its id cannot be reused): a change's new bytes are hashed for
    their version and again for history's entry name, once."""
    global _last_hashed
    last = _last_hashed
    if last[0] is data:
        return last[1]
    version = hashlib.sha256(data).hexdigest()
    _last_hashed = (data, version)
    return version


def encode_json(doc: Any) -> bytes:
    """How documents are written: compact, so json's C encoder does it (indent=2 runs a
    pure-Python encoder, ~10x slower on a 10,000-slot manifest); any JSON reader reads it."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class ContentHashes:
    """content_version per path, remembering the last bytes hashed for each: the
    compare under the lock re-reads the bytes just read, and the next change reads
    the bytes just written, so most calls compare bytes (memcmp) instead of hashing."""

    def __init__(self, size: int = HASHED_DOCUMENTS) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._known: OrderedDict[str, tuple[bytes, str]] = OrderedDict()

    def version(self, path: str, data: bytes) -> str:
        with self._lock:
            known = self._known.get(path)
        if known is not None and known[0] == data:
            return known[1]
        version = content_version(data)
        with self._lock:
            self._known[path] = (data, version)
            self._known.move_to_end(path)
            while len(self._known) > self._size:
                self._known.popitem(last=False)
        return version
