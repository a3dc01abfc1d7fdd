"""A start-up look at a custom storage endpoint (an emulator, a private gateway): a
refused or silent one fails in seconds with one clear sentence, not after the
SDK's retries with back-off (gcsfs: ~30 s, the Azure SDK: ~90 s)."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from ..errors import ConfigError, StorageError
from ..secrets import public_url

#: Seconds the start-up probe waits for an endpoint to accept a connection.
PROBE_TIMEOUT = 3.0


def probe_endpoint(endpoint: str, service: str) -> None:
    """Open (and close) one TCP connection to `endpoint`; `service` names it in errors."""
    parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
    shown = public_url(endpoint)
    host = parts.hostname
    if not host:
        raise ConfigError(f"{service} endpoint {shown!r} names no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise ConfigError(f"{service} endpoint {shown!r}: {exc}") from exc
    try:
        socket.create_connection((host, port), timeout=PROBE_TIMEOUT).close()
    except socket.gaierror as exc:
        raise StorageError(
            f"{service} endpoint {shown}: unknown host {host!r} ({exc.strerror})"
        ) from exc
    except ConnectionRefusedError as exc:
        raise StorageError(
            f"{service} endpoint {shown} refused the connection "
            f"(is the service running on {host}:{port}?)"
        ) from exc
    except TimeoutError as exc:
        raise StorageError(
            f"{service} endpoint {shown} did not answer within {PROBE_TIMEOUT:g} s"
        ) from exc
    except OSError as exc:
        raise StorageError(
            f"{service} endpoint {shown} is not reachable: {exc.strerror or exc}"
        ) from exc


def is_custom(endpoint: str, public_suffixes: tuple[str, ...]) -> bool:
    """True unless `endpoint` is on the cloud's own domain (those may sit behind an
    HTTP proxy the SDK uses, so a direct connection says nothing)."""
    host = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}").hostname or ""
    return not host.endswith(public_suffixes)
