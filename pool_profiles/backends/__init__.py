"""Storage backend plugins (entry-point group `pool_profiles.backends`)."""

from .base import Backend
from .registry import GROUP, Discovered, discover, open_store, split_scheme

__all__ = ["GROUP", "Backend", "Discovered", "discover", "open_store", "split_scheme"]
