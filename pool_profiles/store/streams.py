"""Streams between a Store and its callers: a read file whose failures are the
Store's one kind of error, and the guard that tells a failing data source apart from
a failing backend."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .store import Store


class SourceFailed(Exception):
    """An error raised by the data source of a write, not by the backend."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


def guard(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Tell errors raised by the data source apart from errors of the backend."""
    it = iter(chunks)
    while True:
        try:
            chunk = next(it)
        except StopIteration:
            return
        except Exception as exc:
            raise SourceFailed(exc) from exc
        yield chunk


class ReadStream:
    """A backend's read file whose reads report failures the Store's way."""

    def __init__(self, raw: Any, store: Store, key: str) -> None:
        self._raw = raw
        self._store = store
        self._key = key

    def read(self, size: int = -1) -> bytes:
        with self._store._errors("read", self._key):
            return self._raw.read(size)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a broken connection is no news
            self._raw.close()

    @property
    def closed(self) -> bool:
        return bool(getattr(self._raw, "closed", False))

    def __enter__(self) -> ReadStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
