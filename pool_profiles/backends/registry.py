"""Finding backends: entry points in the group `pool_profiles.backends`, with the
built-ins as a fallback for a pack that is only cloned into custom_nodes/."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from ..errors import ConfigError
from ..store import Store
from .base import Backend
from .generic import GenericBackend, fsspec_knows

log = logging.getLogger("pool_profiles.backends")

GROUP = "pool_profiles.backends"

BUILTINS: dict[str, str] = {
    "file": "pool_profiles.backends.local:backend",
    "memory": "pool_profiles.backends.memory:backend",
    "s3": "pool_profiles.backends.s3:backend",
    "gs": "pool_profiles.backends.gcs:backend",
    "gcs": "pool_profiles.backends.gcs:backend",
    "az": "pool_profiles.backends.azure:backend",
    "abfs": "pool_profiles.backends.azure:backend",
    "abfss": "pool_profiles.backends.azure:backend",
}


@dataclass
class Discovered:
    scheme: str
    origin: str
    backend: Backend | None = None
    error: str | None = None

    @property
    def missing(self) -> str | None:
        if self.error:
            return self.error
        return self.backend.missing_dependency() if self.backend else None


def _load(target: str) -> Any:
    module, _, attr = target.partition(":")
    obj = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _as_backend(obj: Any) -> Backend:
    # An entry point may name a Backend instance or a class / factory making one.
    return obj() if isinstance(obj, type) or not hasattr(obj, "open") else obj


def discover() -> dict[str, Discovered]:
    """Every backend by scheme. A plugin that fails to load is listed with its error."""
    found: dict[str, Discovered] = {}
    for ep in entry_points(group=GROUP):
        if ep.name in found:
            continue
        dist = getattr(ep, "dist", None)
        origin = f"entry point {ep.value}"
        if dist is not None:
            origin += f" ({dist.metadata['Name']} {dist.version})"
        item = Discovered(ep.name, origin)
        try:
            item.backend = _as_backend(ep.load())
        except Exception as exc:  # a broken plugin must not break the others
            item.error = f"failed to load: {exc}"
        found[ep.name] = item
    for scheme, target in BUILTINS.items():
        if scheme not in found:
            found[scheme] = Discovered(scheme, f"built-in {target}", _as_backend(_load(target)))
    return found


def split_scheme(url: str) -> str:
    """'s3://b/p' -> 's3'; a plain path (also 'C:\\x') or file:// -> 'file'."""
    if "://" not in url:
        return "file"
    return url.split("://", 1)[0].lower()


def open_store(url: str, options: Mapping[str, Any] | None = None, *, warn: bool = True) -> Store:
    """Open the Store for `url` with the backend that serves its scheme. `warn`: log
    that a store without conditional writes is single-writer (skip it for reads)."""
    if not isinstance(url, str) or not url.strip():
        raise ConfigError("the store URL is empty")
    url = url.strip()
    scheme = split_scheme(url)
    found = discover().get(scheme)
    if found is not None:
        if found.backend is None:
            raise ConfigError(f"the '{scheme}' storage backend {found.error}")
        backend = found.backend
    elif fsspec_knows(scheme):
        backend = GenericBackend(scheme)
    else:
        raise ConfigError(
            f"unknown storage scheme '{scheme}://' (known: {', '.join(sorted(discover()))}, "
            "or any fsspec protocol)"
        )
    opts = dict(options or {})
    # Understood by every backend, so taken out before the backend sees the options.
    accept = opts.pop("single_writer", False)
    if not isinstance(accept, bool):
        raise ConfigError('the store option "single_writer" must be true or false')
    store = backend.open(url, opts)
    store.accept_single_writer = accept
    if warn:
        store.warn_if_single_writer()
    return store
