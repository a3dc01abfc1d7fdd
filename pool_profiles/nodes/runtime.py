"""What the nodes need at run time, behind one seam: the Store (ComfyUI's configured
store by default; tests inject their own with `set_store_provider`), the local blob
cache, and turning storage failures into one clear message."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator

from ..errors import PoolProfilesError
from ..store import Store
from .blobcache import BlobCache
from .tensorcache import TensorCache, size_from_env

StoreProvider = Callable[[], Store]

_lock = threading.Lock()
_provider: StoreProvider | None = None
_cache: BlobCache | None = None
_cache_dir: str | None = None
_tensors: TensorCache | None = None
_tensor_bytes: int | None = None


class PoolNodeError(PoolProfilesError):
    """One line saying which node, which store, which pool and what failed."""

    code = "node"


def set_store_provider(provider: StoreProvider | None) -> None:
    """Use `provider()` for the Store (None: back to ComfyUI's configured store)."""
    global _provider
    with _lock:
        _provider = provider


def get_store() -> Store:
    provider = _provider
    if provider is None:
        from ..comfy.store import get_store as provider  # lazy: only inside ComfyUI
    try:
        return provider()
    except PoolProfilesError as exc:
        raise PoolNodeError(f"Pool Profiles has no usable store: {exc.message}") from exc


def default_cache_dir() -> str:
    """$POOL_PROFILES_CACHE_DIR, else the user's cache dir: it survives restarts (ComfyUI
    empties its temp dir at start-up) and blobs never change once written."""
    env = os.environ.get("POOL_PROFILES_CACHE_DIR", "").strip()
    if env:
        return os.path.abspath(os.path.expanduser(env))
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or os.path.join(
        os.path.expanduser("~"), ".cache"
    )
    return os.path.join(base, "pool_profiles", "blobs")


def set_cache_dir(path: str | None) -> None:
    """Where remote blobs are cached (None: the default)."""
    global _cache, _cache_dir
    with _lock:
        _cache_dir = path
        _cache = None


def blob_cache() -> BlobCache:
    global _cache
    with _lock:
        if _cache is None:
            _cache = BlobCache(_cache_dir or default_cache_dir())
        return _cache


def set_tensor_cache_bytes(max_bytes: int | None) -> None:
    """Bound the decoded-tensor cache (0: off; None: POOL_PROFILES_TENSOR_CACHE_MB)."""
    global _tensors, _tensor_bytes
    with _lock:
        _tensor_bytes = max_bytes
        _tensors = None


def tensor_cache() -> TensorCache:
    global _tensors
    with _lock:
        if _tensors is None:
            _tensors = TensorCache(size_from_env() if _tensor_bytes is None else _tensor_bytes)
        return _tensors


def _failed(
    node: str, store: Store, what: str, detail: str, code: str | None = None
) -> PoolNodeError:
    where = "" if store.url in detail else f" ({store.backend} store {store.url})"
    return PoolNodeError(f"{node}: {what} failed{where}: {detail}", code=code)


@contextlib.contextmanager
def storage_step(node: str, store: Store, what: str) -> Iterator[None]:
    """Re-raise any failure inside as one PoolNodeError naming node, store and step."""
    try:
        yield
    except PoolNodeError:
        raise
    except PoolProfilesError as exc:
        raise _failed(node, store, what, exc.message, exc.code) from exc
    except FileNotFoundError as exc:
        raise _failed(node, store, what, f"missing {exc.filename or exc}", "not_found") from exc
    except Exception as exc:  # any other backend or decoding failure: still one line
        raise _failed(node, store, what, f"{type(exc).__name__}: {exc}") from exc
