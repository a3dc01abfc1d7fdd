"""History entries: each change of a tracked document (a pool's manifest, the profile
registry) keeps the version it replaced as one immutable object, written once after
the change's compare-and-swap won:

    <pool id>/history/<us>-<kind>-<after>-<rand>.json      (a pool's manifest)
    profiles.history/<us>-<kind>-<after>-<rand>.json       (the registry)

`us` is the time of the change (microseconds, strictly increasing within a process;
it sorts the listing), `kind` c/u/r (a
change, an undo, a restore), `after` a digest of the document the change wrote (so
"which change made the current state" needs a listing, not a read of every entry),
`rand` makes the name unique: concurrent writers never write the same object, so no
compare-and-swap is needed. Content: one line of JSON (the header: when, what, which
blob names the change dropped and added) and then the previous document's bytes as
they were stored (`null` when there was none).

Bounded: the newest POOL_PROFILES_HISTORY_VERSIONS (default 50; 0 turns history off)
and none older than POOL_PROFILES_HISTORY_DAYS (default 30; 0: no age bound). Pruning
runs on the first change a process makes to a document and on every 8th after it;
blobs only pruned versions used are collected then (see prune). Writing an entry
when a change wins is recording.py's."""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ..documents import quarantine_once
from ..errors import CorruptDataError, PoolProfilesError
from ..ids import check_id
from ..store import Store
from ..store.content import content_version

log = logging.getLogger("pool_profiles.history")

ENV_VERSIONS = "POOL_PROFILES_HISTORY_VERSIONS"
ENV_DAYS = "POOL_PROFILES_HISTORY_DAYS"
DEFAULT_VERSIONS = 50
DEFAULT_DAYS = 30.0
HISTORY_DIR = "history"
REGISTRY_HISTORY = "profiles.history"
PRUNE_EVERY = 8
#: A header longer than this is damage, not history.
MAX_HEADER = 4 << 20

CHANGE, UNDO, RESTORE = "c", "u", "r"
KIND_NAMES = {CHANGE: "change", UNDO: "undo", RESTORE: "restore"}
ENTRY_NAME = re.compile(r"^(\d{16})-([cur])-([0-9a-f]{16})-([0-9a-f]{6})\.json\Z")
VERSION_ID = re.compile(r"^\d{16}-[cur]-[0-9a-f]{16}-[0-9a-f]{6}\Z")


# -- settings ----------------------------------------------------------------------


def _env_number(name: str, default: float, kind: type) -> Any:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return kind(default)
    try:
        value = kind(raw)
    except ValueError:
        log.warning("pool-profiles: %s=%r is not a number; using %s", name, raw, default)
        return kind(default)
    if value < 0:
        log.warning("pool-profiles: %s=%r is negative; using %s", name, raw, default)
        return kind(default)
    return value


def max_versions() -> int:
    """How many versions each document keeps (0: history is off)."""
    return int(_env_number(ENV_VERSIONS, DEFAULT_VERSIONS, int))


def max_days() -> float:
    """How old a kept version may be, in days (0: no age bound)."""
    return float(_env_number(ENV_DAYS, DEFAULT_DAYS, float))


def enabled() -> bool:
    return max_versions() > 0


# -- where ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Tracked:
    """A tracked document: its key and the folder its history lives in."""

    key: str
    folder: str
    pool_id: str | None = None  # None: the registry


def pool_doc(pool_id: str) -> Tracked:
    pid = check_id(pool_id, "pool id")
    return Tracked(f"{pid}/manifest.json", f"{pid}/{HISTORY_DIR}", pid)


def registry_doc() -> Tracked:
    return Tracked("profiles.json", REGISTRY_HISTORY, None)


def digest(data: bytes) -> str:
    """What an entry's name says about the document a change wrote (content_version:
    the store may have just hashed these very bytes)."""
    return content_version(data)[:16]


@dataclass(frozen=True)
class EntryName:
    name: str
    us: int
    kind: str
    after: str

    @property
    def id(self) -> str:
        return self.name[: -len(".json")]

    @property
    def time(self) -> float:
        return self.us / 1e6


def parse_name(name: str) -> EntryName | None:
    m = ENTRY_NAME.match(name)
    return EntryName(name, int(m.group(1)), m.group(2), m.group(3)) if m else None


def check_version(version: object) -> str:
    """A version id from a request or the command line."""
    from ..errors import ValidationError

    if not isinstance(version, str) or not VERSION_ID.match(version):
        raise ValidationError(
            f"{str(version)[:80]!r} is not a history version id", code="bad_version"
        )
    return version


def list_entries(store: Store, doc: Tracked) -> list[EntryName]:
    """The document's kept versions, oldest first (a fresh listing, never cached)."""
    found = []
    for item in store.listdir(doc.folder):
        if item.is_dir:
            continue
        parsed = parse_name(item.name)
        if parsed is not None:
            found.append(parsed)
    return sorted(found, key=lambda e: e.name)


# -- reading one -----------------------------------------------------------------------


@dataclass
class Entry:
    name: EntryName
    header: dict[str, Any]
    document: bytes | None = None  # the previous version's bytes (None: not read)

    @property
    def description(self) -> str:
        text = self.header.get("description")
        return text if isinstance(text, str) else "a change"

    def names(self, field_name: str) -> list[str]:
        value = self.header.get(field_name)
        return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []

    def public(self) -> dict[str, Any]:
        count = self.header.get("count")
        return {
            "version": self.name.id,
            "time": self.name.time,
            "kind": KIND_NAMES[self.name.kind],
            "description": self.description,
            "count": count if isinstance(count, int) and not isinstance(count, bool) else None,
        }


_headers_lock = threading.Lock()
_headers: dict[tuple[str, str], dict[str, Any]] = {}  # immutable objects: cache forever
_HEADERS_MAX = 4096


def _split(store: Store, key: str, data: bytes) -> tuple[dict[str, Any], bytes]:
    head, sep, rest = data.partition(b"\n")
    try:
        header = json.loads(head.decode("utf-8"))
        if not sep or not isinstance(header, dict) or header.get("history") != 1:
            raise ValueError("not a history entry")
        if rest.strip() != b"null":
            json.loads(rest.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _damaged(store, key, data, str(exc)) from exc
    return header, rest


def _damaged(store: Store, key: str, data: bytes | None, why: str) -> CorruptDataError:
    """Move a damaged entry aside (a copy named .corrupt-..., then the entry goes), so
    the pool's history keeps working without it; the error says where the copy is."""
    try:
        aside = quarantine_once(store, key, data)
        store.delete(key)
        where = f"it was moved to {aside!r}"
    except FileNotFoundError:
        where = "it vanished"
    except PoolProfilesError as exc:
        where = f"moving it aside failed ({exc.message})"
    log.error(
        "pool-profiles: history entry %s in %s is damaged (%s); %s", key, store.url, why, where
    )
    return CorruptDataError(f"history version {key} is damaged ({why}); {where}")


def read_entry(store: Store, doc: Tracked, name: EntryName) -> Entry:
    """The whole entry (header and previous document). FileNotFoundError when it is
    gone; CorruptDataError when damaged (then it is moved aside)."""
    key = f"{doc.folder}/{name.name}"
    data = store.read_bytes(key)
    header, rest = _split(store, key, data)
    return Entry(name, header, rest)


def read_header(store: Store, doc: Tracked, name: EntryName) -> Entry | None:
    """The entry's header only (a ranged read where the store has one); None when the
    entry is gone or damaged (damaged ones are moved aside)."""
    key = f"{doc.folder}/{name.name}"
    cache_key = (store.url, key)
    with _headers_lock:
        known = _headers.get(cache_key)
    if known is not None:
        return Entry(name, known)
    try:
        with store.open_read(key, block_size=1 << 16) as f:
            buf = f.read(1 << 16)
            while b"\n" not in buf and len(buf) < MAX_HEADER:
                more = f.read(1 << 20)
                if not more:
                    break
                buf += more
    except FileNotFoundError:
        return None
    head, sep, _ = buf.partition(b"\n")
    try:
        header = json.loads(head.decode("utf-8"))
        if not sep or not isinstance(header, dict) or header.get("history") != 1:
            raise ValueError("not a history entry")
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        try:
            data = store.read_bytes(key)
        except FileNotFoundError:
            return None
        _damaged(store, key, data, str(exc))
        return None
    with _headers_lock:
        if len(_headers) >= _HEADERS_MAX:
            _headers.clear()
        _headers[cache_key] = header
    return Entry(name, header)


def history_of(store: Store, doc: Tracked, *, limit: int | None = None) -> list[Entry]:
    """Newest first, headers only; damaged entries are moved aside and left out."""
    names = list_entries(store, doc)[::-1]
    if limit is not None:
        names = names[:limit]
    out = []
    for name in names:
        entry = read_header(store, doc, name)
        if entry is not None:
            out.append(entry)
    return out


# -- bounds ------------------------------------------------------------------------------

_prune_lock = threading.Lock()
_since_prune: dict[tuple[str, str], int] = {}


def maybe_prune(store: Store, doc: Tracked) -> None:
    key = (store.url, doc.folder)
    with _prune_lock:
        n = _since_prune.get(key, 0)
        _since_prune[key] = (n + 1) % PRUNE_EVERY
        if len(_since_prune) > 10_000:
            _since_prune.clear()
    if n != 0:
        return
    try:
        prune(store, doc)
    except PoolProfilesError as exc:  # bounds come back at the next prune
        log.warning("pool-profiles: pruning the history of %s failed: %s", doc.key, exc)


@dataclass
class Pruned:
    versions: list[str] = field(default_factory=list)
    collected: list[str] = field(default_factory=list)


def prune(store: Store, doc: Tracked, *, now: float | None = None) -> Pruned:
    """Drop the versions beyond the bounds (oldest first), then collect what only they
    used: a pool's blobs (and thumbnails), a deleted profile's pool."""
    from . import collect  # the collectors know pools and the registry

    limit, days = max_versions(), max_days()
    names = list_entries(store, doc)
    now = time.time() if now is None else now
    keep = names[-limit:] if limit > 0 else []
    if days > 0:
        keep = [n for n in keep if n.time >= now - days * 86400]
    kept = set(keep)
    gone = [n for n in names if n not in kept]
    out = Pruned()
    if not gone:
        return out
    pruned = [e for e in (read_header(store, doc, n) for n in gone) if e is not None]
    kept_entries = keep
    for name in gone:
        store.delete(f"{doc.folder}/{name.name}")
        out.versions.append(name.id)
    if doc.pool_id is not None:
        out.collected = collect.pool_blobs(store, doc, pruned, kept_entries)
    else:
        out.collected = collect.deleted_pools(store, doc, pruned, kept_entries)
    return out
