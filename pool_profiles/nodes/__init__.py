"""The ComfyUI nodes (the only part of the pack that imports torch and numpy)."""

from __future__ import annotations

from .grid_image_pool import GridImagePool
from .pool_all import GridImagePoolAll
from .pool_profile import PoolProfile

NODE_CLASS_MAPPINGS = {
    "GridImagePool": GridImagePool,
    "PoolProfile": PoolProfile,
    "GridImagePoolAll": GridImagePoolAll,
}
NODE_DISPLAY_NAME_MAPPINGS = {
    "GridImagePool": "Image Pool (Grid)",
    "PoolProfile": "Pool Profile",
    "GridImagePoolAll": "Image Pool (All)",
}

__all__ = [
    "NODE_CLASS_MAPPINGS",
    "NODE_DISPLAY_NAME_MAPPINGS",
    "GridImagePool",
    "GridImagePoolAll",
    "PoolProfile",
]
