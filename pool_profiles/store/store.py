"""`Store`: one fsspec filesystem rooted at one prefix, plus the capabilities it
promises. Everything above this layer talks to a Store only, never to fsspec.

Backends subclass Store where their storage can do better than the generic
fsspec path (atomic replace, conditional writes, server-side copy)."""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, TypeVar

from fsspec import AbstractFileSystem

from ..errors import (
    ConflictError,
    CorruptDataError,
    PoolProfilesError,
    StorageError,
    ValidationError,
)
from ..errors import VersionConflict as VersionConflict
from ..secrets import scrub
from .capabilities import Capabilities
from .content import ContentHashes, encode_json
from .doc_memo import DocMemo
from .keys import check_key, is_hidden
from .streams import ReadStream, SourceFailed, guard

log = logging.getLogger("pool_profiles.store")

T = TypeVar("T")

#: How often update_json retries a conditional write that lost a race.
UPDATE_ATTEMPTS = 200


@dataclass(frozen=True)
class Versioned:
    """An object's bytes with the version they were read at (None: no object)."""

    data: bytes | None
    version: str | None


@dataclass(frozen=True)
class Entry:
    name: str
    is_dir: bool
    size: int
    mtime: float | None = None  # seconds since the epoch, where the backend says


def _mtime(info: dict[str, Any]) -> float | None:
    # fsspec backends name it differently: local "mtime", s3fs "LastModified" (datetime).
    for k in ("mtime", "LastModified", "last_modified", "created"):
        value = info.get(k)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, datetime.datetime):
            return value.timestamp()
    return None


class Store:
    """Blob and document storage under one root of one fsspec filesystem.

    Keys are relative '/'-paths checked by `check_key`. Missing objects raise
    FileNotFoundError; any other backend failure raises StorageError."""

    #: How messages name the two conditions of `_write_if` (create-only, and replace
    #: only at a version); backends say it in their service's words.
    cas_terms: dict[str, str] = {
        "create": "a conditional create",
        "replace": "a version precondition",
    }

    def __init__(
        self,
        fs: AbstractFileSystem,
        root: str,
        *,
        url: str,
        backend: str,
        capabilities: Capabilities,
    ) -> None:
        self.fs = fs
        self.root = root.rstrip("/")
        self.url = url
        self.backend = backend
        self.capabilities = capabilities
        # Only used by the generic single-writer compare-and-swap below.
        self._process_lock = threading.Lock()
        # Serialises write_if in this process when the service ignores its conditions.
        self._unverified_lock = threading.Lock()
        #: The store options said "single_writer": true (see `verify_conditional_writes`).
        self.accept_single_writer = False
        #: What the service was found to ignore (one sentence); set by the probe.
        self.cas_problem: str | None = None
        # Documents update_json wrote, parsed, by version (see doc_memo.py).
        self._docs = DocMemo()
        # The last bytes hashed per path, with their content version.
        self._hashes = ContentHashes()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"

    # -- paths ---------------------------------------------------------------

    def path(self, key: str, *, allow_root: bool = False) -> str:
        """The filesystem path of `key` (checked)."""
        key = check_key(key, allow_root=allow_root)
        return f"{self.root}/{key}" if key else self.root

    def _rel(self, full: str) -> str:
        full = full.rstrip("/")
        prefix = self.root + "/"
        return full[len(prefix) :] if full.startswith(prefix) else full

    @contextlib.contextmanager
    def _errors(self, op: str, key: str) -> Iterator[None]:
        try:
            yield
        except (FileNotFoundError, PoolProfilesError, SourceFailed):
            raise
        except Exception as exc:  # backend-specific errors become one kind
            raise StorageError(
                f"{self.backend} store {self.url}: {op} {key!r} failed: {scrub(str(exc))}"
            ) from exc

    # -- whole objects -------------------------------------------------------

    def read_bytes(self, key: str) -> bytes:
        path = self.path(key)
        with self._errors("read", key):
            return self.fs.cat_file(path)

    def write_bytes(self, key: str, data: bytes) -> None:
        """Write a whole object; readers see the old or the new bytes."""
        path = self.path(key)
        with self._errors("write", key):
            self._write_atomic(path, bytes(data))

    def _write_atomic(self, path: str, data: bytes) -> None:
        self.fs.pipe_file(path, data)

    def exists(self, key: str) -> bool:
        path = self.path(key)
        with self._errors("check", key):
            self._invalidate(path)
            return bool(self.fs.exists(path))

    def size(self, key: str) -> int:
        path = self.path(key)
        with self._errors("stat", key):
            return int(self.fs.size(path))

    # -- streams -------------------------------------------------------------

    def open_read(self, key: str, block_size: int = 1 << 20) -> IO[bytes]:
        """A file to read `key` in chunks. Its reads raise FileNotFoundError or
        StorageError like every other call (a dropped S3 connection mid-export is the
        one storage error, not a botocore traceback)."""
        path = self.path(key)
        with self._errors("open", key):
            raw = self.fs.open(path, "rb", block_size=block_size)
        return ReadStream(raw, self, key)  # type: ignore[return-value]

    def write_stream(self, key: str, chunks: Iterable[bytes]) -> int:
        """Write an object from chunks without holding it in memory. Atomic for
        readers; if `chunks` raises, nothing is written and the error propagates."""
        path = self.path(key)
        try:
            with self._errors("write", key):
                return self._write_stream(path, guard(chunks))
        except SourceFailed as failed:
            raise failed.error from None  # the caller's own error, not a storage failure

    def _write_stream(self, path: str, chunks: Iterable[bytes]) -> int:
        f = self.fs.open(path, "wb")
        total = 0
        try:
            for chunk in chunks:
                f.write(chunk)
                total += len(chunk)
        except BaseException:
            discard = getattr(f, "discard", None)
            if discard is not None:
                discard()  # abort (e.g. an S3 multipart upload) instead of committing
                f.closed = True  # or fsspec's __del__ would try to commit the rest
            raise
        f.close()
        return total

    # -- listing -------------------------------------------------------------

    def _invalidate(self, path: str | None = None) -> None:
        # fsspec caches listings per process; other processes' writes would be invisible.
        with contextlib.suppress(Exception):
            self.fs.invalidate_cache(path)

    def listdir(self, prefix: str = "", *, hidden: bool = False) -> list[Entry]:
        """Direct children of `prefix` (missing prefix: empty), fresh. Hidden entries
        (the store's temp files and locks) only with `hidden`, for consistency checks."""
        path = self.path(prefix, allow_root=True)
        with self._errors("list", prefix):
            self._invalidate(path)
            try:
                items = self.fs.ls(path, detail=True)
            except FileNotFoundError:
                return []
        out = []
        for item in items:
            name = item["name"].rstrip("/").rsplit("/", 1)[-1]
            if not name or (is_hidden(name) and not hidden) or item["name"].rstrip("/") == path:
                continue
            is_dir = item.get("type") == "directory"
            out.append(Entry(name, is_dir, int(item.get("size") or 0), _mtime(item)))
        return sorted(out, key=lambda e: e.name)

    def walk(self, prefix: str = "") -> list[str]:
        """Every object key below `prefix`, fresh, hidden ones left out. Folders are
        not objects: some services (SeaweedFS) keep an emptied one, and s3fs's find
        then answers with the folder itself."""
        path = self.path(prefix, allow_root=True)
        with self._errors("list", prefix):
            self._invalidate(path)
            try:
                found = self.fs.find(path, detail=True)
            except FileNotFoundError:
                return []
        keys = []
        for full, info in found.items():
            if info.get("type") == "directory":
                continue
            rel = self._rel(full)
            if rel and not any(is_hidden(seg) for seg in rel.split("/")):
                keys.append(rel)
        return sorted(keys)

    # -- delete / copy -------------------------------------------------------

    def delete(self, key: str) -> None:
        """Delete one object; a missing one is not an error."""
        path = self.path(key)
        with self._errors("delete", key):
            try:
                self.fs.rm_file(path)
            except FileNotFoundError:
                pass

    def delete_tree(self, prefix: str) -> None:
        """Delete everything below `prefix` (never the store root itself)."""
        path = self.path(prefix)
        with self._errors("delete", prefix):
            self._invalidate(path)
            try:
                if self.fs.exists(path):
                    self.fs.rm(path, recursive=True)
            except FileNotFoundError:
                pass
            self._invalidate(path)

    def delete_temp(self, prefix: str, name: str) -> None:
        """Delete a temp file an interrupted write left below `prefix` (a hidden name
        ending in .tmp; anything else is refused)."""
        if not (is_hidden(name) and name.endswith(".tmp")) or "/" in name or ".." in name:
            raise ValidationError(f"{name[:80]!r} is not a temporary file of this store")
        path = f"{self.path(prefix, allow_root=True)}/{name}"
        with self._errors("delete", name), contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(path)

    def copy(self, src: str, dst: str) -> None:
        """Copy one object inside this store (server-side where the backend can)."""
        s, d = self.path(src), self.path(dst)
        with self._errors("copy", src):
            self._copy(s, d)

    def _copy(self, src: str, dst: str) -> None:
        self.fs.copy(src, dst)

    def copy_objects(self, pairs: Iterable[tuple[str, str]], *, immutable: bool = False) -> int:
        """Copy many objects inside this store, each (source key, target key); returns
        how many. Backends may copy them concurrently (S3: one CopyObject each) and,
        when the caller says the sources are `immutable` (no one ever rewrites them in
        place; this store's own writes always replace an object whole), share storage
        instead of copying bytes (local disk: hard links). Either way a later write to
        one key never changes the other. A missing source raises FileNotFoundError;
        copies already made are the caller's to remove."""
        checked = [(self.path(src), self.path(dst)) for src, dst in pairs]
        if checked:
            first = self._rel(checked[0][0])
            with self._errors("copy", first if len(checked) == 1 else f"{first} and others"):
                self._copy_objects(checked, immutable)
        return len(checked)

    def _copy_objects(self, pairs: list[tuple[str, str]], immutable: bool) -> None:
        for src, dst in pairs:  # generic: one after another
            self._copy(src, dst)

    def copy_tree(self, src_prefix: str, dst_prefix: str) -> int:
        """Copy every object below `src_prefix` to the same place below `dst_prefix`."""
        src_prefix = check_key(src_prefix)
        dst_prefix = check_key(dst_prefix)
        keys = self.walk(src_prefix)
        return self.copy_objects((key, dst_prefix + key[len(src_prefix) :]) for key in keys)

    # -- versioned documents -------------------------------------------------

    def read_versioned(self, key: str) -> Versioned:
        """The object's bytes and version; `Versioned(None, None)` when missing."""
        path = self.path(key)
        with self._errors("read", key):
            return self._read_versioned(path)

    def version(self, key: str) -> str | None:
        """The version `read_versioned` would report for `key` (None: no object),
        without the bytes where the backend can (S3: one HEAD). For cheap "did this
        document change?" checks, such as the list routes' ETags."""
        path = self.path(key)
        with self._errors("stat", key):
            return self._version(path)

    def _version(self, path: str) -> str | None:
        return self._read_versioned(path).version

    def _read_versioned(self, path: str) -> Versioned:
        try:
            data = self.fs.cat_file(path)
        except FileNotFoundError:
            return Versioned(None, None)
        return Versioned(data, self._hash(path, data))

    def _hash(self, path: str, data: bytes) -> str:
        return self._hashes.version(path, data)

    def read_if_changed(self, key: str, stamp: str | None) -> Versioned | None:
        """None when the object is still at `stamp` (a cheap check: a stat, a conditional
        GET); else its bytes with their new stamp (`Versioned(None, None)`: missing).
        Stamps come from this method only; they are not `read_versioned` versions."""
        path = self.path(key)
        with self._errors("read", key):
            cur = self._read_if_changed(path, stamp)
        return None if cur is not None and stamp is not None and cur.version == stamp else cur

    def _read_if_changed(self, path: str, stamp: str | None) -> Versioned | None:
        return self._read_versioned(path)  # generic: read it all, compare the content hash

    def write_if(self, key: str, data: bytes, version: str | None) -> str:
        """Write `data` only if the object is still at `version` (None: only if it
        does not exist). Returns the new version; raises VersionConflict otherwise."""
        path = self.path(key)
        with self._errors("write", key):
            if self.cas_problem is None:
                return self._write_if(path, bytes(data), version)
            # The service ignores the conditions (accepted single-writer mode): compare
            # under this process's lock, so at least its own threads lose nothing.
            with self._unverified_lock:
                if self._read_versioned(path).version != version:
                    raise VersionConflict(f"{self._rel(path)} changed since it was read")
                return self._write_if(path, bytes(data), version)

    def _cas_lock(self, path: str) -> contextlib.AbstractContextManager[Any]:
        """The lock that makes compare-and-write atomic. Generic fallback: safe between
        threads of this process only, which is why such backends declare
        conditional_write=NONE (single-writer mode)."""
        return self._process_lock

    def _write_if(self, path: str, data: bytes, version: str | None) -> str:
        with self._cas_lock(path):
            if self._read_versioned(path).version != version:
                raise VersionConflict(f"{self._rel(path)} changed since it was read")
            self._write_atomic(path, data)
        return self._hash(path, data)

    def read_json(self, key: str, default: Callable[[], T] | None = None) -> Any:
        """Parse a JSON document. Missing: `default()` (or FileNotFoundError)."""
        cur = self.read_versioned(key)
        if cur.version is None or cur.data is None:
            if default is None:
                raise FileNotFoundError(key)
            return default()
        return self.parse_json(key, cur.data)

    def parse_json(self, key: str, data: bytes) -> Any:
        """Parse a document read from `key`; CorruptDataError (naming it) if it is not JSON."""
        try:
            return json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise CorruptDataError(
                f"{key} in {self.url} is not valid JSON ({exc}); it was left untouched"
            ) from exc

    def update_json(
        self,
        key: str,
        change: Callable[[Any], T],
        *,
        default: Callable[[], Any] = dict,
        attempts: int = UPDATE_ATTEMPTS,
        written: Callable[[bytes | None, bytes], None] | None = None,
        fresh: Callable[[Any], Any] | None = None,
        copy: Callable[[Any], Any] | None = None,
    ) -> T:
        """Read → `change(doc)` (mutates the doc in place) → conditional write, retried
        when another writer got there first. Returns what `change` returned. If `change`
        raises, nothing is written. An unparsable document raises CorruptDataError.
        `written(old bytes or None, new bytes)` runs once after the write that won (not
        when nothing changed): what history keeps of the version it replaced.

        The document written is kept parsed (doc_memo.py), and the next change of `key`
        at that version starts from a copy of it instead of the bytes: treat what
        `change` was given as read-only once it returned. `fresh(doc)`, when given, runs
        on every document that is not such a copy (read from the bytes, or `default()`)
        before `change`: a shape check that fills defaults in place, which the kept
        copies passed when they were read. `copy(doc)` makes those copies where a
        faster way than the generic one (marshal) is known for this kind of document."""
        for attempt in range(attempts):
            cur = self.read_versioned(key)
            # A copy of what this store wrote at this version, else the bytes parsed.
            doc = None if cur.data is None else self._docs.take(key, cur.version, copy)
            if doc is None:
                doc = default() if cur.data is None else self.parse_json(key, cur.data)
                if fresh is not None:
                    fresh(doc)
            result = change(doc)
            data = encode_json(doc)
            # Nothing changed: no write, no version bump. Comparing the bytes instead of a
            # deep copy taken before `change`: a document written in another layout
            # (the earlier pack's indent=2) is rewritten once, compactly.
            if cur.data is not None and data == cur.data:
                self._docs.keep(key, cur.version, doc, cur.data)
                return result
            try:
                version = self.write_if(key, data, cur.version)
            except VersionConflict:
                time.sleep(random.uniform(0, min(0.2, 0.002 * (2 ** min(attempt, 7)))))
                continue
            self._docs.keep(key, version, doc, data)
            if written is not None:
                written(cur.data, data)
            return result
        raise ConflictError(f"{key}: too many concurrent writers, gave up after {attempts} tries")

    def kept_document(self, key: str, data: bytes) -> Any | None:
        """The document update_json last wrote to `key`, parsed, when `data` (read by
        any means, e.g. read_if_changed) are its bytes; else None. Shared with this
        store and its other readers: read it, never mutate it."""
        return self._docs.parsed(key, data)

    def quarantine(self, key: str) -> str:
        """Copy a damaged object aside (`<key>.corrupt-<time>`) and return the new key."""
        stamp = f"{time.strftime('%Y%m%d-%H%M%S')}-{random.randrange(1 << 16):04x}"
        aside = f"{check_key(key)}.corrupt-{stamp}"
        self.copy(key, aside)
        return aside

    # -- misc ----------------------------------------------------------------

    def local_path(self, key: str) -> str | None:
        """A path on this machine's disk for `key`, when the backend has one."""
        return None

    def check(self) -> None:
        """Probe the store once (used at start-up); raise StorageError if unusable."""
        self.listdir("")

    def check_read(self) -> None:
        """The probe before read-only use: like `check` but it must create nothing
        (a missing local folder is an empty store, not one to make)."""
        self.check()

    def service_endpoint(self) -> str | None:
        """Where the storage service answers (for messages; no secrets), when the URL
        alone does not say it (an S3 endpoint_url)."""
        return None

    def verify_conditional_writes(self) -> None:
        """Verify, don't trust: a store promising native compare-and-swap checks once
        per process (see cas_probe.py) that its service really refuses stale
        conditional writes. If not: StorageError, or single-writer mode when the store
        options accepted it ("single_writer": true)."""
        from .cas_probe import verify

        verify(self)

    def writer_mode(self) -> str:
        """How this store runs, in words for start-up lines and info commands."""
        if self.cas_problem:
            return f"single writer (accepted in the store options: {self.cas_problem})"
        if self.capabilities.single_writer:
            return "single writer (the backend has no conditional writes)"
        if not self.capabilities.shared:
            return "this process only"
        return "several writers (conditional writes)"

    def warn_if_single_writer(self) -> None:
        if self.cas_problem:
            log.warning(
                "pool-profiles: the %s store %s runs single-writer: %s; run one writer "
                "at a time or concurrent edits may be lost",
                self.backend,
                self.url,
                self.cas_problem,
            )
        elif self.capabilities.single_writer:
            log.warning(
                "pool-profiles: the %s store %s cannot do conditional writes; run a single "
                "writer at a time or concurrent edits may be lost",
                self.backend,
                self.url,
            )
