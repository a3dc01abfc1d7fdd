"""Stored JSON documents (the registry, manifests): read or updated through a shape
check, and never replaced when damaged. A document that does not parse, or parses
into the wrong shape, is copied aside once and reported on every call until someone
fixes it (the earlier pack read a truncated registry as empty and the next create
orphaned every profile)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from .errors import CorruptDataError
from .store import Store

log = logging.getLogger("pool_profiles.documents")

T = TypeVar("T")
D = TypeVar("D")


class BadShape(Exception):
    """The document parsed but is not what we expect; raised by shape checks."""


def quarantine_once(store: Store, key: str, data: bytes | None = None) -> str:
    """Keep a copy of a damaged object aside and return its key. A copy with the same
    bytes already aside is reused, so listing a broken registry on every UI refresh
    does not pile up copies."""
    parent, _, base = key.rpartition("/")
    prefix = base + ".corrupt-"
    if data is not None:
        try:
            for entry in store.listdir(parent):
                if entry.is_dir or not entry.name.startswith(prefix) or entry.size != len(data):
                    continue
                aside = f"{parent}/{entry.name}" if parent else entry.name
                if store.read_bytes(aside) == data:
                    return aside
        except (FileNotFoundError, CorruptDataError):
            pass
    return store.quarantine(key)


def corrupt_error(store: Store, key: str, why: str, data: bytes | None) -> CorruptDataError:
    """Quarantine `key` and build the error that says where the copy is."""
    try:
        aside = quarantine_once(store, key, data)
        where = f"a copy was kept at {aside!r}"
    except FileNotFoundError:
        where = "it vanished before a copy could be kept"
    except Exception as exc:  # the copy failing must not hide the real problem
        where = f"keeping a copy failed ({exc})"
    log.error("pool-profiles: %s in %s is corrupt (%s); %s", key, store.url, why, where)
    return CorruptDataError(
        f"{key} in {store.url} is corrupt ({why}); it was left untouched and {where}. "
        "Fix or remove it to continue."
    )


def _corrupt(store: Store, key: str, exc: Exception, data: bytes | None) -> CorruptDataError:
    why = str(exc) if isinstance(exc, BadShape) else "not valid JSON"
    return corrupt_error(store, key, why, data)


def read_document(store: Store, key: str, shape: Callable[[Any], D]) -> D | None:
    """`shape(parsed document)`, or None when there is no document."""
    cur = store.read_versioned(key)
    if cur.data is None:
        return None
    return parse_document(store, key, cur.data, shape)


def parse_document(store: Store, key: str, data: bytes, shape: Callable[[Any], D]) -> D:
    """`shape(parsed data)` for bytes already read from `key`; damaged: kept aside and
    CorruptDataError, as for read_document."""
    try:
        return shape(store.parse_json(key, data))
    except (CorruptDataError, BadShape) as exc:
        raise _corrupt(store, key, exc, data) from exc


def update_document(
    store: Store,
    key: str,
    shape: Callable[[Any], D],
    change: Callable[[D], T],
    default: Callable[[], Any],
    written: Callable[[bytes | None, bytes], None] | None = None,
    *,
    in_place: bool = False,
    copy: Callable[[Any], Any] | None = None,
) -> T:
    """A versioned update (Store.update_json) of the shaped document; `written` and
    `copy` as there. `in_place`: `shape` checks and fills the document itself and
    returns it, so only documents read from their bytes need it (update_json's `fresh`)."""
    try:
        if in_place:
            return store.update_json(
                key, change, default=default, written=written, fresh=shape, copy=copy
            )
        return store.update_json(
            key, lambda doc: change(shape(doc)), default=default, written=written
        )
    except (CorruptDataError, BadShape) as exc:
        # update_json raised before writing anything; read the bytes again for the copy.
        raise _corrupt(store, key, exc, store.read_versioned(key).data) from exc
