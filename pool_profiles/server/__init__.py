"""The aiohttp adapter: one set of /grid_pool routes for ComfyUI and for
`pool-profiles serve`. The only part of pool_profiles that imports aiohttp."""

from .routes import ServerLimits, add_routes

__all__ = ["ServerLimits", "add_routes"]
