"""Streaming a blocking chunk iterator (archive.iter_export) without blocking the loop."""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import unicodedata
from collections.abc import Iterator
from urllib.parse import quote

_END = object()


class ThreadedIterator:
    """Each `next()` runs in a worker thread. `close()` waits for a pending `next()`
    (a generator cannot be closed while it runs) and is safe to fire and forget."""

    def __init__(self, it: Iterator[bytes]) -> None:
        self._it = it
        self._lock = threading.Lock()

    def _next(self) -> object:
        with self._lock:
            return next(self._it, _END)

    async def next(self) -> bytes | None:
        item = await asyncio.to_thread(self._next)
        return None if item is _END else item  # type: ignore[return-value]

    def _close(self) -> None:
        with self._lock, contextlib.suppress(Exception):
            close = getattr(self._it, "close", None)
            if close is not None:
                close()

    def close_soon(self) -> None:
        """Close in a worker thread without awaiting (also works while cancelled)."""
        asyncio.get_running_loop().run_in_executor(None, self._close)


_UNSAFE = re.compile(r"[^A-Za-z0-9._() -]+")


def content_disposition(name: str, ext: str = ".zip") -> str:
    """`attachment` with an ASCII fallback and the exact name as RFC 5987 filename*."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    ascii_name = _UNSAFE.sub("_", ascii_name).strip(" ._")[:100] or "profile"
    full = f"{name}{ext}"
    return f"attachment; filename=\"{ascii_name}{ext}\"; filename*=UTF-8''{quote(full, safe='')}"
