"""Image Pool (Grid): one image (+ its painted mask and label) out of a stored pool."""

from __future__ import annotations

import logging
import os
from typing import Any

import torch

from .. import pools
from ..errors import TooLargeError
from ..ids import check_id
from ..imaging import ImageLimits
from . import convert, runtime
from .blobcache import endpoint as blob_endpoint
from .blobcache import uses_cache

#: A pool node runs right after ComfyUI called its IS_CHANGED (or the linked Pool
#: Profile's) for the same queue, which checked the manifest: on a remote store a run
#: trusts a check this recent instead of asking again (one request per queue, not two).
#: Changes made through this process are always seen (they drop the check).
RUN_TRUSTS_CHECK_SECONDS = 2.0

log = logging.getLogger("pool_profiles.nodes")

NODE = "Image Pool (Grid)"

# ComfyUI passes profile=None to IS_CHANGED when the input is linked (linked values are
# not known yet at that stage) and leaves it out when nothing is connected.
_NOT_CONNECTED: Any = object()


def effective_pool(pool_id: Any, profile: Any) -> str:
    """`profile or pool_id`, checked: the pool this node reads."""
    if isinstance(profile, str) and profile.strip():
        return check_id(profile.strip(), "profile id")
    if not isinstance(pool_id, str) or not pool_id.strip():
        raise runtime.PoolNodeError(
            f"{NODE}: the node has no pool_id (the web UI sets one; in an API workflow "
            "give pool_id or connect a Pool Profile)",
            code="bad_id",
        )
    return check_id(pool_id.strip(), "pool_id")


def _tensor_key(store: Any, pid: str, name: str, decode: Any, args: tuple) -> Any:
    """Where the decoded tensor is cached: None when it should not be."""
    where: Any = None
    local = store.local_path(pools.blob_key(pid, name))
    if local is not None:
        try:
            st = os.stat(local)
        except OSError:
            return None  # let the read report it
        where = (st.st_ino, st.st_mtime_ns, st.st_size)
    return (store.url, blob_endpoint(store), pid, name, decode.__name__, args, where)


def _load(cache: Any, store: Any, pid: str, name: str, decode: Any, *args: Any) -> torch.Tensor:
    """decode(blob bytes, *args), or the tensor decoded last time (shared: ComfyUI nodes
    never change their inputs in place); a cached copy that does not decode (cut short
    by a crash) is dropped and fetched again once."""
    tensors = runtime.tensor_cache()
    key = _tensor_key(store, pid, name, decode, args) if tensors.max_bytes > 0 else None
    if key is not None:
        found = tensors.get(key)
        if found is not None:
            return found
    tensor = _decode_blob(cache, store, pid, name, decode, *args)
    if key is not None:
        tensors.put(key, tensor)
    return tensor


def _decode_blob(
    cache: Any, store: Any, pid: str, name: str, decode: Any, *args: Any
) -> torch.Tensor:
    data = cache.read(store, pid, name)
    try:
        return decode(data, *args)
    except TooLargeError:
        raise
    except Exception:
        if not cache.discard(store, pid, name):
            raise
        log.warning(
            "pool-profiles: cached blob %s of pool %s was unreadable; fetched again", name, pid
        )
        return decode(cache.read(store, pid, name), *args)


class GridImagePool:
    CATEGORY = "Pool Profiles"
    FUNCTION = "run"
    RETURN_TYPES = ("IMAGE", "MASK", "INT", "INT", "STRING")
    RETURN_NAMES = ("image", "mask", "index", "count", "label")
    DESCRIPTION = (
        "An image out of a curated pool, with its painted mask and label. index -1 uses "
        "the active slot; 0.. picks a slot (clamped). An empty pool gives a 1x1 black "
        "image, a zero mask, index -1 and count 0."
    )

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:
        return {
            "required": {
                "index": ("INT", {"default": -1, "min": -1, "max": 1_000_000, "step": 1}),
                # Per-node UUID, minted and hidden by the web extension.
                "pool_id": ("STRING", {"default": "", "multiline": False}),
            },
            "optional": {"profile": ("POOL_PROFILE",)},
        }

    def run(
        self, index: int = -1, pool_id: str = "", profile: str | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, int, int, str]:
        pid = effective_pool(pool_id, profile)
        store = runtime.get_store()
        recent = RUN_TRUSTS_CHECK_SECONDS if uses_cache(store) else 0.0
        with runtime.storage_step(NODE, store, f"reading pool {pid!r}"):
            # No request after this queue's IS_CHANGED on a remote store; else one small
            # one (a stat, a conditional GET) while the manifest is unchanged.
            manifest = pools.current_manifest(store, pid, checked_within=recent)
        slots = manifest.get("slots") or []
        idx = pools.resolve_index(manifest, int(index))
        if idx is None or not slots:
            image, mask = convert.empty_outputs()
            return (image, mask, -1, 0, "")
        slot = slots[idx]
        limits = ImageLimits.from_env()
        cache = runtime.blob_cache()
        with runtime.storage_step(NODE, store, f"loading image {slot['image']!r} of pool {pid!r}"):
            image = _load(cache, store, pid, slot["image"], convert.decode_image, limits.max_pixels)
        _, height, width, _ = image.shape
        mask_name = slot.get("mask")
        if mask_name:
            with runtime.storage_step(NODE, store, f"loading mask {mask_name!r} of pool {pid!r}"):
                mask = _load(
                    cache,
                    store,
                    pid,
                    mask_name,
                    convert.decode_mask,
                    width,
                    height,
                    limits.max_pixels,
                )
        else:
            mask = convert.zero_mask(height, width)
        return (image, mask, idx, len(slots), str(slot.get("label") or ""))

    @classmethod
    def IS_CHANGED(
        cls, index: int = -1, pool_id: str = "", profile: Any = _NOT_CONNECTED, **_: Any
    ) -> str | float:
        if profile is None:
            # Linked profile: its value is unknown here. The Pool Profile node's own
            # IS_CHANGED tracks that pool's manifest, and ComfyUI folds it into this
            # node's cache key, so a constant is enough (and stays cheap).
            return f"linked:{index}"
        try:
            pid = effective_pool(pool_id, None if profile is _NOT_CONNECTED else profile)
            store = runtime.get_store()
            return f"{pid}:{pools.change_token(store, pid, int(index))}"
        except Exception as exc:  # run() reports it properly; never cache a failure
            log.debug("pool-profiles: IS_CHANGED failed: %s", exc)
            return float("nan")  # NaN never equals itself: ComfyUI re-runs the node
