"""A local disk cache for blobs of remote stores. Blobs are immutable once written
(names are unique per write), so an entry keyed by store URL + pool id + blob name is
valid forever; only its size is bounded (least recently used files go first)."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import uuid

from .. import pools
from ..secrets import public_url
from ..store import Store

log = logging.getLogger("pool_profiles.nodes")

DEFAULT_MAX_BYTES = 2 * 1024**3


def _max_bytes() -> int:
    raw = os.environ.get("POOL_PROFILES_CACHE_MAX_BYTES", "").strip()
    try:
        return int(raw) if raw else DEFAULT_MAX_BYTES
    except ValueError:
        log.warning("pool-profiles: POOL_PROFILES_CACHE_MAX_BYTES=%r is not a number", raw)
        return DEFAULT_MAX_BYTES


def uses_cache(store: Store) -> bool:
    """Local stores are read in place; process memory is not worth caching (and its
    URLs mean nothing in another process). Everything else is remote."""
    return store.capabilities.shared and store.local_path("x") is None


def endpoint(store: Store) -> str:
    """The service behind the URL: s3://bucket/x names different data on two
    S3-compatible endpoints (earlier-pack blob names like img_0001.png repeat)."""
    fs = store.fs
    kwargs = getattr(fs, "client_kwargs", None)
    endpoint = (kwargs.get("endpoint_url") if isinstance(kwargs, dict) else None) or getattr(
        fs, "endpoint_url", None
    )
    return public_url(str(endpoint)) if endpoint else ""


class BlobCache:
    def __init__(self, directory: str, max_bytes: int | None = None) -> None:
        self.directory = directory
        self.max_bytes = _max_bytes() if max_bytes is None else max_bytes
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()
        # Bytes in the folder: counted by one walk at the first write, then kept up to
        # date here, so a miss does not walk the folder (other processes sharing it are
        # caught at the next prune, which walks again).
        self._total: int | None = None

    def path_for(self, store: Store, pool_id: str, name: str) -> str:
        where = f"{store.url}\0{endpoint(store)}"
        digest = hashlib.sha256(f"{where}\0{pool_id}\0{name}".encode()).hexdigest()
        ext = os.path.splitext(name)[1][:8]
        return os.path.join(self.directory, digest[:2], digest + ext)

    def read(self, store: Store, pool_id: str, name: str) -> bytes:
        """The blob's bytes: in place for a local store, else from the cache (filled
        from the store on a miss)."""
        local = store.local_path(pools.blob_key(pool_id, name))
        if local is not None or not uses_cache(store):
            return pools.read_blob(store, pool_id, name)
        path = self.path_for(store, pool_id, name)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            data = None
        if data is not None:
            self.hits += 1
            try:
                os.utime(path)  # recency for the size bound
            except OSError:
                pass
            return data
        self.misses += 1
        data = pools.read_blob(store, pool_id, name)
        self._put(path, data)
        return data

    def discard(self, store: Store, pool_id: str, name: str) -> bool:
        """Drop a cached copy found unreadable; True if there was one."""
        try:
            os.remove(self.path_for(store, pool_id, name))
        except OSError:
            return False
        self._total = None  # counted again at the next write
        return True

    def _put(self, path: str, data: bytes) -> None:
        # A cache that cannot be written only costs a download next time.
        tmp = f"{path}.{uuid.uuid4().hex}.tmp"
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(tmp, "wb") as f:
                f.write(data)
            existed = os.path.exists(path)
            os.replace(tmp, path)  # readers never see a partial file
        except OSError as exc:
            log.warning("pool-profiles: cannot write blob cache %s: %s", self.directory, exc)
            try:
                os.remove(tmp)
            except OSError:
                pass
            return
        if self.max_bytes <= 0:
            return
        with self._lock:
            if self._total is None:
                self._total = self._walk()[1]
            elif not existed:
                self._total += len(data)
            if self._total <= self.max_bytes:
                return
            self._prune()

    def _walk(self) -> tuple[list[tuple[float, int, str]], int]:
        files: list[tuple[float, int, str]] = []
        total = 0
        for dirpath, _dirs, names in os.walk(self.directory):
            for n in names:
                p = os.path.join(dirpath, n)
                try:
                    st = os.stat(p)
                except OSError:
                    continue
                files.append((st.st_mtime, st.st_size, p))
                total += st.st_size
        return files, total

    def _prune(self) -> None:
        """Least recently used files go until the folder is 10 % under its bound, so the
        next walks are that many bytes of misses away (called under the lock)."""
        files, total = self._walk()
        low_water = self.max_bytes * 0.9
        for _mtime, size, p in sorted(files):
            if total <= low_water:
                break
            try:
                os.remove(p)
            except OSError:
                continue
            total -= size
        self._total = total
