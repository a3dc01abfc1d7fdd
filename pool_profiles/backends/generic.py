"""Any other URL scheme fsspec knows, with honest (reduced) capabilities: no
conditional writes across processes, so the store runs in single-writer mode."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import fsspec

from ..errors import ConfigError
from ..secrets import public_url, scrub
from ..store import Capabilities, Store, Support
from .base import Backend


class GenericBackend(Backend):
    description = "Any other fsspec filesystem (single writer: no conditional writes)."
    capabilities = Capabilities(
        conditional_write=Support.NONE,
        atomic_replace=Support.NONE,
        server_side_copy=Support.EMULATED,
        consistent_listing=Support.EMULATED,
    )

    def __init__(self, scheme: str) -> None:
        self.scheme = scheme

    def open(self, url: str, options: Mapping[str, Any]) -> Store:
        try:
            # ftp://user:pw@host/..., sftp://, smb://: the host and user live in the URL.
            from_url = fsspec.get_filesystem_class(self.scheme)._get_kwargs_from_urls(url)
            fs = fsspec.filesystem(self.scheme, **{**from_url, **dict(options)})
        except ImportError as exc:
            raise ConfigError(
                f"the fsspec filesystem for '{self.scheme}://' needs a package: {exc}"
            ) from exc
        except TypeError as exc:
            raise ConfigError(f"bad options for '{self.scheme}://': {exc}") from exc
        except Exception as exc:  # filesystems raise anything from __init__ (ValueError, ...)
            why = scrub(str(exc)) or type(exc).__name__
            raise ConfigError(f"cannot open a '{self.scheme}://' filesystem: {why}") from exc
        try:
            root = fs._strip_protocol(url)
        except Exception as exc:
            raise ConfigError(f"cannot use {public_url(url)!r} as a store root: {exc}") from exc
        if isinstance(root, list):  # pragma: no cover - defensive, fsspec API quirk
            root = root[0]
        if not isinstance(root, str):
            raise ConfigError(f"cannot use {public_url(url)!r} as a store root")
        return Store(
            fs,
            root,
            url=public_url(url),
            backend=f"fsspec:{self.scheme}",
            capabilities=self.capabilities,
        )


def fsspec_knows(scheme: str) -> bool:
    # Known by name, or registered as a class at run time (register_implementation).
    return scheme in fsspec.available_protocols() or scheme in fsspec.registry
