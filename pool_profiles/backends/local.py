"""Local disk: a plain path or file:// URL. Atomic replace through a unique temp
file + os.replace; conditional writes under a cross-process file lock."""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote, urlparse

from filelock import FileLock
from fsspec.implementations.local import LocalFileSystem

from ..errors import ConfigError
from ..store import Capabilities, Store, Support
from .base import Backend

LOCK_DIR = ".pool_profiles_locks"


def _tmp_name(path: str) -> str:
    head, _, name = path.rpartition("/")
    # Unique per write: a shared temp name corrupts readers with concurrent writers.
    return f"{head}/.{name}.{uuid.uuid4().hex}.tmp"


class LocalStore(Store):
    def _write_atomic(self, path: str, data: bytes) -> None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = _tmp_name(path)
        try:
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            _remove_quietly(tmp)
            raise

    def _write_stream(self, path: str, chunks: Iterable[bytes]) -> int:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = _tmp_name(path)
        total = 0
        try:
            with open(tmp, "wb") as f:
                for chunk in chunks:
                    f.write(chunk)
                    total += len(chunk)
            os.replace(tmp, path)
        except BaseException:
            _remove_quietly(tmp)
            raise
        return total

    def _copy(self, src: str, dst: str) -> None:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        tmp = _tmp_name(dst)
        try:
            shutil.copyfile(src, tmp)
            os.replace(tmp, dst)
        except BaseException:
            _remove_quietly(tmp)
            raise

    def _cas_lock(self, path: str) -> FileLock:  # across processes, not only threads
        digest = hashlib.sha1(self._rel(path).encode()).hexdigest()[:24]
        lock_dir = os.path.join(self.root, LOCK_DIR)
        os.makedirs(lock_dir, exist_ok=True)
        return FileLock(os.path.join(lock_dir, digest + ".lock"), timeout=60)

    def local_path(self, key: str) -> str | None:
        return os.path.normpath(self.path(key))

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
