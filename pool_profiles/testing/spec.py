"""How a test names a store so that another process can open the same one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..backends import open_store
from ..store import Store


@dataclass(frozen=True)
class StoreSpec:
    url: str
    options: dict[str, Any] = field(default_factory=dict)

    def open(self) -> Store:
        """A fresh Store instance (as another ComfyUI instance would have)."""
        return open_store(self.url, self.options)
