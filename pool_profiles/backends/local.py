"""Local disk: a plain path or file:// URL. Atomic replace through a unique temp
file + os.replace; conditional writes under a cross-process file lock."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import unquote, urlparse

from filelock import FileLock
from fsspec.implementations.local import LocalFileSystem

from ..errors import ConfigError
from ..store import Capabilities, Store, Support, Versioned
from .base import Backend

LOCK_DIR = ".pool_profiles_locks"


def _tmp_name(path: str) -> str:
    head, _, name = path.rpartition("/")
    # Unique per write: a shared temp name corrupts readers with concurrent writers.
    return f"{head}/.{name}.{uuid.uuid4().hex}.tmp"


def _replace(tmp: str, path: str, attempts: int = 40) -> None:
    """os.replace, retried while Windows refuses it: there a file that a reader (or a
    virus scanner) holds open cannot be replaced for a moment."""
    for attempt in range(attempts):
        try:
            os.replace(tmp, path)
            return
        except PermissionError:
            if os.name != "nt" or attempt == attempts - 1:
                raise
            time.sleep(0.025)


@contextlib.contextmanager
def _staged(path: str) -> Iterator[str]:
    """A unique temp file beside `path`, moved over it on success, removed on failure."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = _tmp_name(path)
    try:
        yield tmp
        _replace(tmp, path)
    except BaseException:
        _remove_quietly(tmp)
        raise


class LocalStore(Store):
    def _write_atomic(self, path: str, data: bytes) -> None:
        with _staged(path) as tmp, open(tmp, "wb") as f:
            f.write(data)

    def _write_stream(self, path: str, chunks: Iterable[bytes]) -> int:
        total = 0
        with _staged(path) as tmp, open(tmp, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
                total += len(chunk)
        return total

    def _read_if_changed(self, path: str, stamp: str | None) -> Versioned | None:
        # Every write replaces the file (a new inode), so inode + mtime + size read from
        # the open file change with its bytes: one fstat when nothing changed.
        try:
            f = open(path, "rb")
        except FileNotFoundError:
            return Versioned(None, None)
        with f:
            st = os.fstat(f.fileno())
            now = f"{st.st_ino}-{st.st_mtime_ns}-{st.st_size}"
            return Versioned(None, now) if now == stamp else Versioned(f.read(), now)

    def _copy(self, src: str, dst: str) -> None:
        with _staged(dst) as tmp:
            shutil.copyfile(src, tmp)

    def _copy_objects(self, pairs: list[tuple[str, str]], immutable: bool) -> None:
        folders: set[str] = set()
        for src, dst in pairs:
            folder = os.path.dirname(dst)
            if folder not in folders:
                os.makedirs(folder, exist_ok=True)
                folders.add(folder)
            if not (immutable and self._linked(src, dst)):
                self._copy(src, dst)

    def _linked(self, src: str, dst: str) -> bool:
        """Hard-link `dst` to `src`: no bytes copied, and safe because every write of
        this store replaces the file (a new inode), so neither name can change the other's
        bytes. False where links fail (another device, a filesystem without them, the
        link count at its maximum): the caller copies instead."""
        try:
            os.link(src, dst)
            return True
        except FileExistsError:
            pass  # replace it, atomically for readers, as a copy would
        except FileNotFoundError:
            if not os.path.exists(src):
                raise
            return False
        except OSError:
            return False
        tmp = _tmp_name(dst)
        try:
            os.link(src, tmp)
            _replace(tmp, dst)
            return True
        except FileNotFoundError:
            _remove_quietly(tmp)
            if not os.path.exists(src):
                raise
            return False
        except OSError:
            _remove_quietly(tmp)
            return False

    def _cas_lock(self, path: str) -> FileLock:  # across processes, not only threads
        digest = hashlib.sha1(self._rel(path).encode()).hexdigest()[:24]
        lock_dir = os.path.join(self.root, LOCK_DIR)
        os.makedirs(lock_dir, exist_ok=True)
        return FileLock(os.path.join(lock_dir, digest + ".lock"), timeout=60)

    def local_path(self, key: str) -> str | None:
        return os.path.normpath(self.path(key))

    def check_read(self) -> None:
        if os.path.exists(self.root) and not os.path.isdir(self.root):
            raise ConfigError(f"local store {self.root} is not a folder")

    def check(self) -> None:
        try:
            os.makedirs(self.root, exist_ok=True)
        except OSError as exc:  # a file in the way, no permission, a read-only disk
            raise ConfigError(
                f"local store {self.root} cannot be created: {exc.strerror or exc}"
            ) from exc
        if not os.path.isdir(self.root):
            raise ConfigError(f"local store {self.root} is not a folder")
        if not os.access(self.root, os.W_OK):
            raise ConfigError(f"local store {self.root} is not writable")


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def local_root(url: str) -> str:
    if url.startswith("file://"):
        parsed = urlparse(url)
        path = unquote(parsed.netloc + parsed.path)
    else:
        path = url
    return os.path.abspath(os.path.expanduser(path))


class LocalBackend(Backend):
    description = "A folder on this machine's disk (a plain path or file://)."
    capabilities = Capabilities(
        conditional_write=Support.EMULATED,
        atomic_replace=Support.NATIVE,
        server_side_copy=Support.EMULATED,
        consistent_listing=Support.NATIVE,
    )

    def open(self, url: str, options: Mapping[str, Any]) -> Store:
        if options:
            raise ConfigError(f"the local backend takes no options (got {sorted(options)})")
        root = local_root(url)
        fs = LocalFileSystem(auto_mkdir=True)
        return LocalStore(
            fs,
            LocalFileSystem._strip_protocol(root),
            url=root,
            backend="local",
            capabilities=self.capabilities,
        )


backend = LocalBackend()
