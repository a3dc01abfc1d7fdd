"""An example storage backend plugin: `folder://PATH` keeps a store in a local folder
through fsspec's DirFileSystem. It relies on the Store defaults, so it is honest about
being single-writer (no conditional writes across processes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fsspec.implementations.dirfs import DirFileSystem
from fsspec.implementations.local import LocalFileSystem

from pool_profiles.backends import Backend
from pool_profiles.store import Capabilities, Store, Support


class FolderBackend(Backend):
    description = "Example plugin: a local folder via fsspec's DirFileSystem."
    capabilities = Capabilities(
        conditional_write=Support.NONE,  # only safe within one process
        atomic_replace=Support.NONE,
        server_side_copy=Support.EMULATED,
        consistent_listing=Support.NATIVE,
    )

    def open(self, url: str, options: Mapping[str, Any]) -> Store:
        folder = url.split("://", 1)[1]
        fs = DirFileSystem(path=folder, fs=LocalFileSystem(auto_mkdir=True))
        return Store(fs, "data", url=url, backend="folder", capabilities=self.capabilities)


backend = FolderBackend()
