"""What a storage backend plugin provides. A plugin distribution declares one entry
point in the group `pool_profiles.backends`; its name is the URL scheme it serves
and its value is an object with this interface (usually a `Backend` instance)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..store import Capabilities, Store


class Backend:
    """Turns a URL plus options into a Store."""

    #: Shown by `pool-profiles backends`.
    description: str = ""
    #: What `open` will promise (listed before any store is opened).
    capabilities: Capabilities

    def missing_dependency(self) -> str | None:
        """A sentence saying what to install when an optional dependency is absent."""
        return None

    def open(self, url: str, options: Mapping[str, Any]) -> Store:  # pragma: no cover
        raise NotImplementedError
