"""Where the store is. First match wins: the POOL_PROFILES_STORE (+ _OPTIONS)
environment variables, a config file, then the default folder."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .backends import open_store
from .errors import ConfigError, PoolProfilesError
from .secrets import public_url
from .store import Store

ENV_STORE = "POOL_PROFILES_STORE"
ENV_OPTIONS = "POOL_PROFILES_STORE_OPTIONS"
CONFIG_FILENAME = "pool_profiles.json"

__all__ = ["StoreConfig", "open_configured", "read_config_file", "resolve"]


@dataclass
class StoreConfig:
    url: str
    options: dict[str, Any] = field(default_factory=dict)
    source: str = "default"

    def describe(self) -> str:
        return f"{public_url(self.url)} (from {self.source})"


def _options(raw: Any, setting: str) -> dict[str, Any]:
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{setting} is not valid JSON ({exc.msg} at char {exc.pos})") from exc
        except RecursionError:
            raise ConfigError(f"{setting} is not valid JSON (nested too deeply)") from None
    if not isinstance(raw, dict):
        raise ConfigError(f'{setting} must be a JSON object, like {{"endpoint_url": "..."}}')
    return raw


def read_config_file(path: str) -> StoreConfig:
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {path} does not exist") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ConfigError(f"config file {path} is not readable JSON: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("store"), str) or not doc["store"]:
        raise ConfigError(f'config file {path} needs a "store" URL, like {{"store": "s3://b/p"}}')
    return StoreConfig(
        doc["store"], _options(doc.get("options"), f'"options" in {path}'), f"config file {path}"
    )


def resolve(
    *,
    default_root: str,
    config_file: str | None = None,
    env: Mapping[str, str] | None = None,
    require_config_file: bool = False,
) -> StoreConfig:
    """Which store to use. `config_file` is read if it exists (or must exist when
    `require_config_file`, as for the CLI's --config)."""
    env = os.environ if env is None else env
    url = env.get(ENV_STORE, "").strip()
    if url:
        return StoreConfig(url, _options(env.get(ENV_OPTIONS), ENV_OPTIONS), f"${ENV_STORE}")
    if env.get(ENV_OPTIONS, "").strip():
        raise ConfigError(f"{ENV_OPTIONS} is set but {ENV_STORE} is not")
    if config_file and (require_config_file or os.path.exists(config_file)):
        return read_config_file(config_file)
    return StoreConfig(os.path.abspath(default_root), {}, "default")


def open_configured(config: StoreConfig, *, check: bool = True, write: bool = True) -> Store:
    """Open and (by default) probe the store; every failure is one ConfigError line.
    `write=False` (read-only use): the probe creates nothing and a single-writer
    store does not warn, as nothing will be written."""
    try:
        store = open_store(config.url, config.options, warn=write)
        if check:
            if write:
                store.check()
                # Verify, don't trust (once per process): before anything relies on
                # the service's compare-and-swap. Read-only use writes nothing.
                store.verify_conditional_writes()
                if store.cas_problem:
                    store.warn_if_single_writer()
            else:
                store.check_read()
    except ConfigError as exc:
        raise ConfigError(f"store {config.describe()}: {exc}") from exc
    except PoolProfilesError as exc:
        raise ConfigError(f"store {config.describe()} cannot be used: {exc}") from exc
    return store
