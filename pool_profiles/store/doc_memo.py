"""The documents `Store.update_json` last wrote, kept parsed so that the next change
of the same document need not parse its bytes again (a 10,000-slot manifest: ~6 ms
of a ~20 ms change, the biggest cost after the write itself).

Safe because a memo is keyed by the version its bytes were written at, and a version
names one content: that is the very premise of the compare-and-swap (a write at
version V succeeds only while the object is unchanged since V). A change made by
anyone else gives another version, so the memo is simply not found.

The kept document is the one the writer's caller also holds, to read (pools return
the manifest they wrote), and readers share it too (`parsed`: the pool view right
after a change), so it is never changed: `take` hands out a copy (marshal, C speed:
half a parse) for the next change to mutate. A caller that mutated what it holds
would break that; tests turn on `DocMemo.verify`, which catches it."""

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
    #: Tests set this: every hand-out first checks the kept document against its bytes.
    verify = False

    def __init__(self, size: int = MEMO_DOCUMENTS) -> None:
        self._size = size
        self._lock = threading.Lock()
        # key -> (version, document, the bytes it was written as)
        self._docs: OrderedDict[str, tuple[str, Any, bytes]] = OrderedDict()

    def _kept(self, key: str) -> tuple[str, Any, bytes] | None:
        with self._lock:
            kept = self._docs.get(key)
        if kept is not None and DocMemo.verify:
            from .content import encode_json

            if encode_json(kept[1]) != kept[2]:
                raise MemoDiverged(f"{key}: a document was changed after it was written")
        return kept

    def take(
        self, key: str, version: str | None, copy: Callable[[Any], Any] | None = None
    ) -> Any | None:
        """A copy of the document kept for `key` at exactly `version`, for a change to
        mutate, or None. `copy`: how (default: any JSON document, through marshal)."""
        if version is None:
            return None
        kept = self._kept(key)
        if kept is None or kept[0] != version:
            return None
        if copy is not None:
            return copy(kept[1])
        try:  # JSON documents hold only what marshal copies: dict, list, str, numbers
            return marshal.loads(marshal.dumps(kept[1]))
        except ValueError:  # nested deeper than marshal goes: parse the bytes instead
            return None

    def parsed(self, key: str, data: bytes) -> Any | None:
        """The document kept for `key` itself, not a copy, when `data` are the bytes it
        was written as (however they were read), else None. Shared: read it only."""
        kept = self._kept(key)
        return kept[1] if kept is not None and kept[2] == data else None

    def keep(self, key: str, version: str | None, doc: Any, data: bytes) -> None:
        """Keep `doc`, just written as `data` at `version` (or found at it unchanged)."""
        if version is None or self._size <= 0:
            return
        with self._lock:
            self._docs[key] = (version, doc, data)
            self._docs.move_to_end(key)
            while len(self._docs) > self._size:
                self._docs.popitem(last=False)

    def forget(self, key: str | None = None) -> None:
        with self._lock:
            if key is None:
                self._docs.clear()
            else:
                self._docs.pop(key, None)
