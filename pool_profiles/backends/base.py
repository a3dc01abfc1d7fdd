"""What a storage backend plugin provides. A plugin distribution declares one entry
point in the group `pool_profiles.backends`; its name is the URL scheme it serves
and its value is an object with this interface (usually a `Backend` instance)."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from ..store import Capabilities, Store


class Backend:
    """Turns a URL plus options into a Store."""

    #: Shown by `pool-profiles backends`.
    description: str = ""
    #: What `open` will promise (listed before any store is opened).
    capabilities: Capabilities

    #: The module an optional dependency provides, its distribution and this pack's
    #: extra that installs it (e.g. "s3fs", "s3fs", "s3"); None: nothing optional.
    requires: tuple[str, str, str] | None = None
    #: How messages name the storage ("S3 storage needs s3fs: ...").
    label: str = "this storage"

    def missing_dependency(self) -> str | None:
        """A sentence saying what to install when an optional dependency is absent."""
        if self.requires is None:
            return None
        module, dist, extra = self.requires
        if importlib.util.find_spec(module):
            return None
        return (
            f"install the '{extra}' extra: pip install 'comfyui-pool-profiles[{extra}]' "
            f"(or pip install {dist})"
        )

    def require_dependency(self) -> None:
        """ConfigError naming what to install when the optional dependency is absent."""
        from ..errors import ConfigError

        missing = self.missing_dependency()
        if missing:
            raise ConfigError(f"{self.label} needs {self.requires[1]}: {missing}")  # type: ignore[index]

    def open(self, url: str, options: Mapping[str, Any]) -> Store:  # pragma: no cover
        raise NotImplementedError


async def copy_each(
    pairs: Iterable[tuple[str, str]],
    one: Callable[[str, str], Awaitable[None]],
    limit: int,
) -> None:
    """`one(src, dst)` for every pair, `limit` at a time (server-side copies of the
    cloud backends). Every copy ends before this returns, so a caller cleaning up after
    a failure never races copies still running; then the first failure is raised."""
    gate = asyncio.Semaphore(limit)

    async def bounded(src: str, dst: str) -> None:
        async with gate:
            await one(src, dst)

    results = await asyncio.gather(*(bounded(s, d) for s, d in pairs), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
