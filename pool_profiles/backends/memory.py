"""memory://name: fsspec's in-process memory filesystem, for tests and demos."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

from fsspec.implementations.memory import MemoryFileSystem

from ..errors import ConfigError
from ..store import Capabilities, Store, Support
from .base import Backend

# MemoryFileSystem's data is process-global, so its lock must be too.
_LOCK = threading.RLock()


class MemoryStore(Store):
    def _write_stream(self, path: str, chunks: Iterable[bytes]) -> int:
        # fsspec's MemoryFile appears (empty) as soon as it is opened: buffer instead.
        data = b"".join(chunks)
        self.fs.pipe_file(path, data)
        return len(data)

    def _cas_lock(self, path: str) -> threading.RLock:
        return _LOCK


class MemoryBackend(Backend):
    description = "Process memory (tests, demos); gone when the process exits."
    capabilities = Capabilities(
        conditional_write=Support.EMULATED,
        atomic_replace=Support.NATIVE,
        server_side_copy=Support.NATIVE,
        consistent_listing=Support.NATIVE,
        shared=False,
    )

    def open(self, url: str, options: Mapping[str, Any]) -> Store:
        if options:
            raise ConfigError(f"the memory backend takes no options (got {sorted(options)})")
        name = url.split("://", 1)[1].strip("/") if "://" in url else url.strip("/")
        if not name:
            raise ConfigError("a memory store needs a name: memory://NAME")
        fs = MemoryFileSystem()
        return MemoryStore(
            fs, f"/{name}", url=f"memory://{name}", backend="memory", capabilities=self.capabilities
        )


backend = MemoryBackend()
