"""Image Pool (All): every matching slot of a pool, as lists (images of their own sizes,
masks, labels, indexes) and as one IMAGE/MASK batch under a resize policy. Same pool
rule, decode code and caches as Image Pool (Grid); decodes run in parallel inside the
process-wide decode budget."""

from __future__ import annotations

import hashlib
import json
import os
import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .. import tags
from ..errors import PoolProfilesError, TooLargeError
from ..imaging import ImageLimits
from ..manifest import stamped_manifest
from . import convert, runtime
from .grid_image_pool import _NOT_CONNECTED, _load, _tensor_key, effective_pool, read_pool

NODE = "Image Pool (All)"
ORDERS = ("pool order", "label", "newest", "random")
RESIZES = ("crop", "pad", "stretch")
SEED_MAX = 2**32 - 1
SIDE_MAX = 16384
#: decodes at once (each also waits for its share of the decode budget)
WORKERS = max(1, min(8, os.cpu_count() or 1))


def _fail(message: str, code: str = "invalid") -> runtime.PoolNodeError:
    return runtime.PoolNodeError(f"{NODE}: {message}", code=code)


def _whole(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(f"{name} must be a whole number, not {value!r}")
    if not low <= value <= high:
        raise _fail(f"{name} {value} is out of range ({low}..{high})")
    return value


def ordered(slots: list[dict[str, Any]], picked: list[int], order: str, seed: int) -> list[int]:
    """The picked slot indexes in the requested order (stable: ties keep pool order)."""
    if order == "pool order":
        return list(picked)
    if order == "label":
        return sorted(picked, key=lambda i: str(slots[i].get("label") or "").casefold())
    if order == "newest":
        return sorted(picked, key=lambda i: -float(slots[i].get("added") or 0))
    shuffled = list(picked)
    random.Random(seed).shuffle(shuffled)  # the same seed, the same order
    return shuffled


def _fit(t: torch.Tensor, height: int, width: int, policy: str, fill: float = 0.0) -> torch.Tensor:
    """[1,H,W,C] -> [1,height,width,C]: stretch, crop (cover, then centre crop) or pad
    (fit, then centre on `fill`)."""
    _, h, w, c = t.shape
    if (h, w) == (height, width):
        return t
    chw = t.permute(0, 3, 1, 2)
    if policy == "stretch":
        out = F.interpolate(chw, size=(height, width), mode="bilinear", antialias=True)
        return out.permute(0, 2, 3, 1).contiguous()
    scale = max(height / h, width / w) if policy == "crop" else min(height / h, width / w)
    sh, sw = max(1, round(h * scale)), max(1, round(w * scale))
    scaled = F.interpolate(chw, size=(sh, sw), mode="bilinear", antialias=True)
    if policy == "crop":
        top, left = (sh - height) // 2, (sw - width) // 2
        out = scaled[:, :, top : top + height, left : left + width]
    else:
        out = torch.full((1, c, height, width), fill, dtype=t.dtype)
        top, left = (height - sh) // 2, (width - sw) // 2
        out[:, :, top : top + sh, left : left + sw] = scaled
    return out.permute(0, 2, 3, 1).contiguous()


class GridImagePoolAll:
    CATEGORY = "Pool Profiles"
    FUNCTION = "run"
    RETURN_TYPES = ("IMAGE", "MASK", "STRING", "INT", "IMAGE", "MASK", "INT")
    RETURN_NAMES = ("images", "masks", "labels", "indexes", "batch", "batch_mask", "count")
    OUTPUT_IS_LIST = (True, True, True, True, False, False, False)
    DESCRIPTION = (
        "Every slot of a pool whose tags match the filter (labels hold comma-separated "
        "tags), in an order, from start, up to limit (0: all): as lists of images of "
        "their own sizes, masks, labels and slot indexes, and as one batch resized by "
        "crop / pad / stretch to width x height (0 x 0: the first image's size). "
        "Nothing matching: empty lists, a 1x1 black batch and count 0."
    )

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:
        return {
            "required": {
                # Per-node UUID, minted and hidden by the web extension.
                "pool_id": ("STRING", {"default": "", "multiline": False}),
                "tags": ("STRING", {"default": "", "multiline": False}),
                "order": (list(ORDERS), {"default": "pool order"}),
                "seed": (
                    "INT",
                    {"default": 0, "min": 0, "max": SEED_MAX, "control_after_generate": False},
                ),
                "start": ("INT", {"default": 0, "min": 0, "max": 1_000_000}),
                "limit": ("INT", {"default": 0, "min": 0, "max": 1_000_000}),
                "resize": (list(RESIZES), {"default": "crop"}),
                "width": ("INT", {"default": 0, "min": 0, "max": SIDE_MAX}),
                "height": ("INT", {"default": 0, "min": 0, "max": SIDE_MAX}),
            },
            "optional": {"profile": ("POOL_PROFILE",)},
        }

    @staticmethod
    def _check(order: Any, seed: Any, start: Any, limit: Any, resize: Any, w: Any, h: Any) -> None:
        if order not in ORDERS:
            raise _fail(f"order {order!r} is not one of {', '.join(ORDERS)}")
        if resize not in RESIZES:
            raise _fail(f"resize {resize!r} is not one of {', '.join(RESIZES)}")
        _whole(seed, "seed", 0, SEED_MAX)
        _whole(start, "start", 0, 1_000_000)
        _whole(limit, "limit", 0, 1_000_000)
        _whole(w, "width", 0, SIDE_MAX)
        _whole(h, "height", 0, SIDE_MAX)
        if (w == 0) != (h == 0):
            raise _fail(
                f"resize to {w}x{h}: give both width and height, or 0x0 for the first image's size"
            )
        max_pixels = ImageLimits.from_env().max_pixels
        if w * h > max_pixels:
            raise _fail(f"resize to {w}x{h} = {w * h} pixels is over the limit of {max_pixels}")

    def run(
        self,
        pool_id: str = "",
        tags: str = "",
        order: str = "pool order",
        seed: int = 0,
        start: int = 0,
        limit: int = 0,
        resize: str = "crop",
        width: int = 0,
        height: int = 0,
        profile: str | None = None,
    ) -> tuple[Any, ...]:
        self._check(order, seed, start, limit, resize, width, height)
        try:
            wanted = _parse_tags(tags)
        except PoolProfilesError as exc:
            raise _fail(exc.message, exc.code) from None
        store, pid, manifest = read_pool(NODE, pool_id, profile)
        slots = manifest.get("slots") or []
        picked = ordered(slots, wanted.select(slots), order, seed)
        if start and start >= len(picked):
            raise _fail(
                f"start {start} is past the end: {len(picked)} slot(s) of pool {pid!r} match"
            )
        picked = picked[start : start + limit if limit else None]
        if not picked:
            image, mask = convert.empty_outputs()
            return ([], [], [], [], image, mask, 0)
        chosen = [slots[i] for i in picked]
        images, masks, batch, batch_mask = _Decoder(store, pid, resize).run(chosen, width, height)
        labels = [str(slots[i].get("label") or "") for i in picked]
        return (images, masks, labels, picked, batch, batch_mask, len(picked))

    @classmethod
    def IS_CHANGED(
        cls, pool_id: str = "", profile: Any = _NOT_CONNECTED, **inputs: Any
    ) -> str | float:
        """Any change to the pool re-runs it (every slot may be an output): one small
        request per queue, as for the pool node."""
        try:
            if profile is None:  # linked: the profile node tracks its pool; we our own
                own = pool_id.strip() if isinstance(pool_id, str) else ""
                if not own:
                    return "linked"
                pid = effective_pool(own, None, NODE)
            else:
                pid = effective_pool(pool_id, None if profile is _NOT_CONNECTED else profile)
            stamp, manifest = stamped_manifest(runtime.get_store(), pid)
            if stamp is None:
                shown = json.dumps(manifest, sort_keys=True, default=str).encode("utf-8")
                stamp = "none:" + hashlib.sha256(shown).hexdigest()
            return f"{'linked:' if profile is None else ''}{pid}:{stamp}"
        except Exception:  # run() reports it properly; never cache a failure
            return float("nan")


class _Decoder:
    """Decodes the chosen slots (several at once, each inside the decode budget) with
    the pool node's code and caches, and fills the batch as it goes: an image of the
    batch's size that is not in the tensor cache is decoded straight into its batch
    row, and its list entry is a view of that row (no second copy of it)."""

    def __init__(self, store: Any, pid: str, policy: str) -> None:
        self.store, self.pid, self.policy = store, pid, policy
        self.max_pixels = ImageLimits.from_env().max_pixels
        self.cache = runtime.blob_cache()

    def _step(self, what: str, name: str) -> Any:
        return runtime.storage_step(
            NODE, self.store, f"loading {what} {name!r} of pool {self.pid!r}"
        )

    def image(self, name: str, row: np.ndarray | None) -> torch.Tensor | None:
        """The decoded image, or None when it was decoded into `row`."""
        store, pid, cache = self.store, self.pid, self.cache
        with self._step("image", name):
            tensors = runtime.tensor_cache()
            found = None
            if row is not None and tensors.max_bytes > 0:
                key = _tensor_key(store, pid, name, convert.decode_image, (self.max_pixels,))
                found = tensors.get(key) if key is not None else None
            if row is None or found is not None:
                return found if found is not None else self._cached_load(name)
            try:
                return convert.decode_image_into(cache.read(store, pid, name), self.max_pixels, row)
            except TooLargeError:
                raise
            except Exception:
                if not cache.discard(store, pid, name):  # a cached copy cut short: again
                    raise
                data = cache.read(store, pid, name)
                return convert.decode_image_into(data, self.max_pixels, row)

    def _cached_load(self, name: str) -> torch.Tensor:
        return _load(self.cache, self.store, self.pid, name, convert.decode_image, self.max_pixels)

    def mask(self, name: str, width: int, height: int) -> torch.Tensor:
        with self._step("mask", name):
            return _load(
                self.cache,
                self.store,
                self.pid,
                name,
                convert.decode_mask,
                width,
                height,
                self.max_pixels,
            )

    def run(
        self, chosen: list[dict[str, Any]], w: int, h: int
    ) -> tuple[list[torch.Tensor], list[torch.Tensor], torch.Tensor, torch.Tensor]:
        n = len(chosen)
        first: torch.Tensor | None = None
        if not (w and h):  # the first image's size: decode it first (into the cache)
            first = self.image(chosen[0]["image"], None)
            assert first is not None
            h, w = int(first.shape[1]), int(first.shape[2])
        batch = torch.empty((n, h, w, 3), dtype=torch.float32)
        rows = batch.numpy()
        # Zeros from calloc: only slots that have a mask write to it.
        batch_mask = _zeros(n, h, w)
        images: list[torch.Tensor | None] = [None] * n
        masks: list[torch.Tensor | None] = [None] * n

        def one(i: int) -> None:
            slot = chosen[i]
            image = first if i == 0 and first is not None else self.image(slot["image"], rows[i])
            if image is None:
                image = batch[i : i + 1]  # decoded into its row
            else:
                batch[i] = _fit(image, h, w, self.policy)[0]
            _, ih, iw, _ = image.shape
            mask_name = slot.get("mask")
            if mask_name:
                mask = self.mask(mask_name, iw, ih)
                batch_mask[i] = _fit(mask[..., None], h, w, self.policy)[0, ..., 0]
            else:
                mask = convert.zero_mask(ih, iw)
            images[i], masks[i] = image, mask

        # ComfyUI runs nodes under torch.inference_mode(), which is per thread: the
        # workers take the caller's mode, or they could not write into the batch.
        mode = torch.is_inference_mode_enabled()

        def in_mode(i: int) -> None:
            with torch.inference_mode(mode):
                one(i)

        if n == 1 or WORKERS == 1:
            for i in range(n):
                one(i)
        else:
            with ThreadPoolExecutor(max_workers=min(WORKERS, n)) as pool:
                list(pool.map(in_mode, range(n)))
        return images, masks, batch, batch_mask  # type: ignore[return-value]


def _zeros(n: int, height: int, width: int) -> torch.Tensor:
    return torch.from_numpy(np.zeros((n, height, width), dtype=np.float32))


def _parse_tags(text: Any) -> tags.TagFilter:
    return tags.parse_filter(text)
