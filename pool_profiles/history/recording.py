"""Recording history: a change says what it does (`note`, `describing`), `tracking`
wraps its versioned update, and once its compare-and-swap won, `record` writes the
entry that keeps the version it replaced (entries.py says what an entry holds)."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import PoolProfilesError
from ..store import Store
from ..store.content import encode_json
from .entries import CHANGE, Tracked, digest, enabled, maybe_prune

log = logging.getLogger("pool_profiles.history")


@dataclass
class _Pending:
    """What the change being made says about itself (set through note())."""

    description: str | None = None
    action: str | None = None
    dropped: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    subject: dict[str, Any] | None = None
    count: int | None = None
    default: bytes | None = None
    fixed: bool = False  # set by describing(): notes made inside do not replace it


_pending: contextvars.ContextVar[_Pending | None] = contextvars.ContextVar(
    "pool_profiles_history_pending", default=None
)
_captured: contextvars.ContextVar[list[dict[str, Any]] | None] = contextvars.ContextVar(
    "pool_profiles_history_captured", default=None
)


def note(
    description: str,
    *,
    action: str | None = None,
    dropped: list[str] | tuple[str, ...] = (),
    added: list[str] | tuple[str, ...] = (),
    subject: dict[str, Any] | None = None,
) -> None:
    """Called inside a tracked change: what it does, in a short sentence, and the blob
    names it stops using (`dropped`; the candidates pruning may collect later)."""
    pending = _pending.get()
    if pending is None:
        return
    if not pending.fixed:
        pending.description = description
        pending.action = action
    pending.dropped = [n for n in dropped if n]
    pending.added = [n for n in added if n]
    if subject is not None:
        pending.subject = dict(subject)


@contextlib.contextmanager
def describing(description: str, action: str | None = None) -> Iterator[None]:
    """Name the changes made inside (e.g. "restored profile “X”" around a register)."""
    pending = _pending.get()
    if pending is not None:
        yield
        return
    token = _pending.set(_Pending(description, action, fixed=True))
    try:
        yield
    finally:
        _pending.reset(token)


@contextlib.contextmanager
def capture() -> Iterator[list[dict[str, Any]]]:
    """Collect the history entries written inside (a route answers with the last one,
    so the page's Undo names exactly the change it made)."""
    got: list[dict[str, Any]] = []
    token = _captured.set(got)
    try:
        yield got
    finally:
        _captured.reset(token)


class Tracker:
    """Wraps one versioned update: `change` and `default` note what the history entry
    needs, `written` writes the entry once the new version is stored."""

    def __init__(self, store: Store, doc: Tracked, pending: _Pending | None) -> None:
        self.store = store
        self.doc = doc
        self.pending = pending

    def change(self, fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        pending = self.pending
        if pending is None:
            return fn

        def run(doc: Any) -> Any:
            items = doc if isinstance(doc, list) else doc.get("slots")
            pending.count = len(items) if isinstance(items, list) else None
            return fn(doc)

        return run

    def default(self, fn: Callable[[], Any]) -> Callable[[], Any]:
        pending = self.pending
        if pending is None:
            return fn

        def run() -> Any:
            doc = fn()
            pending.default = encode_json(doc)  # what a missing document stood for
            return doc

        return run

    def written(self, old: bytes | None, new: bytes) -> None:
        if self.pending is None:
            return
        previous = old if old is not None else self.pending.default
        record(self.store, self.doc, previous, new, self.pending)


@contextlib.contextmanager
def tracking(store: Store, doc: Tracked) -> Iterator[Tracker]:
    """Around one versioned update of `doc`: see Tracker."""
    if not enabled():
        yield Tracker(store, doc, None)
        return
    outer = _pending.get()
    pending = _Pending()
    if outer is not None and outer.fixed:
        pending.description, pending.action, pending.fixed = outer.description, outer.action, True
    token = _pending.set(pending)
    try:
        yield Tracker(store, doc, pending)
    finally:
        _pending.reset(token)


_stamp_lock = threading.Lock()
_last_stamp = 0


def _stamp(now: float) -> int:
    """Microseconds, strictly increasing within this process (fast changes in one
    millisecond still list in the order they were made)."""
    global _last_stamp
    with _stamp_lock:
        _last_stamp = max(int(now * 1e6), _last_stamp + 1)
        return _last_stamp


def entry_bytes(header: dict[str, Any], previous: bytes | None) -> bytes:
    return encode_json(header) + b"\n" + (previous if previous is not None else b"null")


def record(
    store: Store,
    doc: Tracked,
    previous: bytes | None,
    new: bytes,
    pending: _Pending,
    *,
    kind: str = CHANGE,
    extra: dict[str, Any] | None = None,
) -> str | None:
    """Write the entry for a change that replaced `previous` with `new`. Best effort:
    the change is stored already, so a failure is logged, not raised (its blobs stay
    and `check` finds them). Returns the version id, or None."""
    now = time.time()
    header: dict[str, Any] = {
        "history": 1,
        "time": now,
        "description": pending.description or "changed",
        "action": pending.action,
        "count": pending.count,
        "dropped": pending.dropped,
        "added": pending.added,
    }
    if pending.subject is not None:
        header["subject"] = pending.subject
    if extra:
        header.update(extra)
    name = f"{_stamp(now):016d}-{kind}-{digest(new)}-{uuid.uuid4().hex[:6]}"
    try:
        store.write_bytes(f"{doc.folder}/{name}.json", entry_bytes(header, previous))
    except PoolProfilesError as exc:
        log.warning("pool-profiles: %s: keeping its previous version failed: %s", doc.key, exc)
        return None
    got = _captured.get()
    if got is not None:
        got.append({"version": name, "description": header["description"]})
    maybe_prune(store, doc)
    return name
