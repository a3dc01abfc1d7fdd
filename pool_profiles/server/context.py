"""What every route shares: how to get the Store, the limits, the MaskEditor stager,
and one way to run blocking work off the event loop."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ..archive import ImportLimits
from ..imaging import ImageLimits
from ..store import Store

T = TypeVar("T")

StageImage = Callable[[bytes, str], dict]

ENV_MAX_IMPORT = "POOL_PROFILES_MAX_IMPORT_BYTES"


@dataclass(frozen=True)
class ServerLimits:
    """Request size limits. None means: the configured default, read per request."""

    max_upload_bytes: int | None = None  # one image or mask (default: ImageLimits)
    max_import_bytes: int | None = None  # one profile zip (default: ImportLimits total)
    max_json_bytes: int = 1024 * 1024
    image_limits: ImageLimits | None = None
    import_limits: ImportLimits | None = None

    def images(self) -> ImageLimits:
        return self.image_limits or ImageLimits.from_env()

    def upload_bytes(self) -> int:
        return self.max_upload_bytes or self.images().max_bytes

    def import_bytes(self) -> int:
        if self.max_import_bytes:
            return self.max_import_bytes
        env = os.environ.get(ENV_MAX_IMPORT, "").strip()
        if env.isdigit() and int(env) > 0:
            return int(env)
        return (self.import_limits or ImportLimits()).max_total_bytes


@dataclass(frozen=True)
class Context:
    get_store: Callable[[], Store]
    limits: ServerLimits
    stage_image: StageImage | None = None

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn(store, *args, **kwargs)` in a worker thread: storage, Pillow and even
        opening the store block, and ComfyUI's loop also serves its websocket."""

        def call() -> T:
            return fn(self.get_store(), *args, **kwargs)

        return await asyncio.to_thread(call)
