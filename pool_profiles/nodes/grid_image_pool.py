"""Image Pool (Grid): one image (+ its painted mask and label) out of a stored pool."""

from __future__ import annotations

import logging
import os
from typing import Any

import torch

from .. import pools, slot_pick
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


def effective_pool(pool_id: Any, profile: Any, node: str = NODE) -> str:
    """The pool this node reads, the rule the grid follows too (web/comfy/pool_node.js
    effectivePoolId): a profile id when one comes in; no profile (input not connected,
    or a Pool Profile with "(no profile)" picked, which outputs "") -> its own pool_id."""
    if isinstance(profile, str) and profile.strip():
        return check_id(profile.strip(), "profile id")
    if not isinstance(pool_id, str) or not pool_id.strip():
        raise runtime.PoolNodeError(
            f"{node}: the node has no pool_id (the web UI sets one; in an API workflow "
            "give pool_id or connect a Pool Profile)",
            code="bad_id",
        )
    return check_id(pool_id.strip(), "pool_id")


def read_pool(node: str, pool_id: Any, profile: Any) -> tuple[Any, str, dict[str, Any]]:
    """(store, pool id, manifest) for a run. An empty pool read through a profile id
    that is not in the registry is an error naming it, never a silent empty pool."""
    pid = effective_pool(pool_id, profile, node)
    store = runtime.get_store()
    recent = RUN_TRUSTS_CHECK_SECONDS if uses_cache(store) else 0.0
    with runtime.storage_step(node, store, f"reading pool {pid!r}"):
        # No request after this queue's IS_CHANGED on a remote store; else one small
        # one (a stat, a conditional GET) while the manifest is unchanged.
        manifest = pools.current_manifest(store, pid, checked_within=recent)
    if not manifest.get("slots") and isinstance(profile, str) and profile.strip():
        from .pool_profile import require_profile  # (imports this module)

        require_profile(node, pid)
    return store, pid, manifest


def tracking_token(pool_id: Any, profile: Any, index: Any, pin: Any = None) -> str | float:
    """IS_CHANGED of a pool-reading node: what it outputs changes -> the token does."""
    try:
        if profile is None:
            # Linked profile: its value is unknown here. The Pool Profile node's own
            # IS_CHANGED tracks that pool's manifest, and ComfyUI folds it into this
            # node's cache key; with "(no profile)" picked this node reads its own
            # pool, tracked here (one small request).
            own = pool_id.strip() if isinstance(pool_id, str) else ""
            if not own:
                return f"linked:{index}:{pin or ''}"
            store = runtime.get_store()
            own = check_id(own, "pool_id")
            try:
                token = slot_pick.change_token(store, own, int(index), pin)
            except slot_pick.PinnedSlotGone:  # a pin into the profile's pool, not ours
                token = slot_pick.change_token(store, own, int(index))
            return f"linked:{own}:{token}"
        pid = effective_pool(pool_id, None if profile is _NOT_CONNECTED else profile)
        store = runtime.get_store()
        return f"{pid}:{slot_pick.change_token(store, pid, int(index), pin)}"
    except Exception as exc:  # run() reports it properly; never cache a failure
        log.debug("pool-profiles: IS_CHANGED failed: %s", exc)
        return float("nan")  # NaN never equals itself: ComfyUI re-runs the node


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
        "the active slot (the one active when the UI queued the run); 0.. picks a slot "
        "and wraps around past the end, so control_after_generate increment walks the "
        "pool one slot per Run. An empty pool gives a 1x1 black image, a zero mask, "
        "index -1 and count 0."
    )

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:
        return {
            "required": {
                "index": (
                    "INT",
                    {
                        "default": -1,
                        "min": -1,
                        "max": 1_000_000,
                        "step": 1,
                        # fixed / increment / decrement / randomize; the web extension
                        # starts new nodes at "fixed".
                        "control_after_generate": True,
                    },
                ),
                # Per-node UUID, minted and hidden by the web extension.
                "pool_id": ("STRING", {"default": "", "multiline": False}),
            },
            "optional": {
                "profile": ("POOL_PROFILE",),
                # The slot active when the UI queued (slot_pick); hidden, written at
                # queue time by the web extension. Empty: the active slot at run time.
                "pin": ("STRING", {"default": "", "multiline": False}),
            },
        }

    def run(
        self, index: int = -1, pool_id: str = "", profile: str | None = None, pin: str = ""
    ) -> tuple[torch.Tensor, torch.Tensor, int, int, str]:
        store, pid, manifest = read_pool(NODE, pool_id, profile)
        slots = manifest.get("slots") or []
        try:
            idx = slot_pick.pick(manifest, int(index), pin, pool=pid)
        except slot_pick.PinnedSlotGone as exc:
            raise runtime.PoolNodeError(f"{NODE}: {exc.message}", code=exc.code) from None
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
        cls,
        index: int = -1,
        pool_id: str = "",
        profile: Any = _NOT_CONNECTED,
        pin: str = "",
        **_: Any,
    ) -> str | float:
        return tracking_token(pool_id, profile, index, pin)
