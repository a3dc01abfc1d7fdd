"""Pool Profiles: curated image pools and portable pool profiles on pluggable storage.

This package is the core: it imports no aiohttp, torch or ComfyUI (the server,
nodes and CLI subpackages are adapters over it)."""

from .backends import open_store
from .errors import PoolProfilesError
from .store import Capabilities, Store, Support

__version__ = "0.1.0"

__all__ = ["Capabilities", "PoolProfilesError", "Store", "Support", "__version__", "open_store"]
