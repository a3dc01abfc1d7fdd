"""The process-wide Store inside ComfyUI: POOL_PROFILES_STORE(+_OPTIONS), else
<user dir>/pool_profiles.json, else <input dir>/grid_pool."""

from __future__ import annotations

import logging
import os
import threading
import time

from .. import config
from ..errors import ConfigError, PoolProfilesError
from ..store import Store

log = logging.getLogger("pool_profiles")

#: After a failed open, wait this long before trying again (a slow or unreachable
#: S3 endpoint must not stall every queue and UI refresh).
RETRY_AFTER = 30.0

_lock = threading.Lock()
_store: Store | None = None
_failure: tuple[float, ConfigError] | None = None


def _folder_paths():  # noqa: ANN202 - ComfyUI's module, untyped
    try:
        import folder_paths  # ComfyUI's
    except ImportError as exc:
        raise ConfigError("not running inside ComfyUI (no folder_paths module)") from exc
    return folder_paths


def resolve() -> config.StoreConfig:
    fp = _folder_paths()
    return config.resolve(
        default_root=os.path.join(fp.get_input_directory(), "grid_pool"),
        config_file=os.path.join(fp.get_user_directory(), config.CONFIG_FILENAME),
    )


def get_store() -> Store:
    """The configured Store, opened and probed once per process (thread-safe)."""
    global _store, _failure
    store = _store
    if store is not None:
        return store
    with _lock:
        if _store is not None:
            return _store
        if _failure is not None and time.monotonic() - _failure[0] < RETRY_AFTER:
            raise _failure[1]
        try:
            cfg = resolve()
            _store = config.open_configured(cfg)
        except PoolProfilesError as exc:
            err = exc if isinstance(exc, ConfigError) else ConfigError(exc.message)
            _failure = (time.monotonic(), err)
            raise err from exc
        _failure = None
        log.info(
            "pool-profiles: using the %s store %s: %s",
            _store.backend,
            cfg.describe(),
            _store.writer_mode(),
        )
        return _store


def reset() -> None:
    """Forget the opened store (tests; a changed configuration)."""
    global _store, _failure
    with _lock:
        _store = None
        _failure = None


def open_at_startup() -> None:
    """Open the store now so a bad configuration shows as one clear line in the log."""
    try:
        get_store()
    except PoolProfilesError as exc:
        log.error("pool-profiles: storage is not usable: %s", exc.message)
