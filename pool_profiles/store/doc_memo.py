"""The documents `Store.update_json` last wrote, kept parsed so that the next change
of the same document need not parse its bytes again (a 10,000-slot manifest: ~6 ms
of a ~20 ms change, the biggest cost after the write itself).

Safe because a memo is keyed by the version its bytes were written at, and a version
names one content: that is the very premise of the compare-and-swap (a write at
version V succeeds only while the object is unchanged since V). A change made by
anyone else gives another version, so the memo is simply not found.

The kept document is the one the writer's caller also holds, to read (pools return
the manifest they wrote), so it is never changed: `take` hands out a copy (marshal,
C speed: half a parse) for the next change to mutate. A caller that mutated what it
holds would break that; tests turn on `DocMemo.verify`, which catches it."""

from __future__ import annotations

import marshal
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

#: Documents kept per store: the hot case is one pool edited click after click.
MEMO_DOCUMENTS = 4


class MemoDiverged(AssertionError):
    """A kept document no longer encodes to the bytes it was written as (verify mode)."""


class DocMemo:
    #: Tests set this: `take` then checks the memo against the bytes just read.
    verify = False

    def __init__(self, size: int = MEMO_DOCUMENTS) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._docs: OrderedDict[str, tuple[str, Any]] = OrderedDict()

    def take(
        self,
        key: str,
        version: str | None,
        data: bytes | None = None,
        copy: Callable[[Any], Any] | None = None,
    ) -> Any | None:
        """A copy of the document kept for `key` at exactly `version`, or None.
        `copy`: how to copy it (default: any JSON document, through marshal)."""
        if version is None:
            return None
        with self._lock:
            kept = self._docs.get(key)
        if kept is None or kept[0] != version:
            return None
        if DocMemo.verify and data is not None:
            from .store import encode_json

            if encode_json(kept[1]) != data:
                raise MemoDiverged(f"{key}: a document was changed after it was written")
        if copy is not None:
            return copy(kept[1])
        try:  # JSON documents hold only what marshal copies: dict, list, str, numbers
            return marshal.loads(marshal.dumps(kept[1]))
        except ValueError:  # nested deeper than marshal goes: parse the bytes instead
            return None

    def keep(self, key: str, version: str | None, doc: Any) -> None:
        if version is None or self._size <= 0:
            return
        with self._lock:
            self._docs[key] = (version, doc)
            self._docs.move_to_end(key)
            while len(self._docs) > self._size:
                self._docs.popitem(last=False)

    def forget(self, key: str | None = None) -> None:
        with self._lock:
            if key is None:
                self._docs.clear()
            else:
                self._docs.pop(key, None)
