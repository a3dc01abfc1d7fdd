"""Verify, don't trust: a store whose backend promises native compare-and-swap probes
once per process that the service really honours it, before anything relies on it.

Some S3-compatible services (and emulators) answer 200 to a PUT whatever its
If-Match / If-None-Match says; two writers then silently lose each other's changes.
The probe uses the very primitives the versioned updates use (`_read_versioned`,
`_write_if`), so every backend with native compare-and-swap gets it, on one hidden
object under the store's prefix (hidden names are left out of listings, check and
copies). At most 4 of those calls, once per store and endpoint per process (S3 adds
a HEAD after each refusal: s3.py's _landed); none per write.

    1. conditional create of the probe object: created (new) or refused (it exists)
    2. new: a second conditional create must be refused  | existed: read its version
    3. a write with the current version must be accepted
    4. a write with the version before that (stale) must be refused"""

from __future__ import annotations

import dataclasses
import json
import logging
import secrets
import threading
from typing import TYPE_CHECKING

from ..errors import StorageError, VersionConflict
from .capabilities import Support

if TYPE_CHECKING:
    from .store import Store

log = logging.getLogger("pool_profiles.store")

#: The probe object, directly below the store's root (hidden: leading dot).
PROBE_KEY = ".pool-profiles-cas-probe"
#: Rounds when a write with the current version is refused: another process probing
#: the same store at the same moment, not a broken service.
ROUNDS = 3

_lock = threading.Lock()
_locks: dict[tuple[str, str, str], threading.Lock] = {}
#: (backend, url, endpoint) -> what the service ignored (None: it honours it all).
_results: dict[tuple[str, str, str], str | None] = {}


def _cache_key(store: Store) -> tuple[str, str, str]:
    return (store.backend, store.url, store.service_endpoint() or "")


def forget() -> None:
    """Forget every probe result (tests)."""
    with _lock:
        _results.clear()
        _locks.clear()


def verify(store: Store) -> None:
    """Probe `store` once per process (per URL and endpoint). If its service ignores
    conditional writes: raise StorageError naming the endpoint and what it ignored, or,
    with single-writer mode accepted, mark the store single-writer."""
    if store.capabilities.conditional_write is not Support.NATIVE or store.cas_problem:
        return
    key = _cache_key(store)
    with _lock:
        one = _locks.setdefault(key, threading.Lock())
    with one:
        if key in _results:
            problem = _results[key]
        else:
            problem = probe(store)
            _results[key] = problem
    if problem is None:
        return
    where = store.service_endpoint() or store.url
    if not store.accept_single_writer:
        raise StorageError(
            f"the storage service at {where} {problem}, so several writers would silently "
            f'lose each other\'s changes; refusing to start (set "single_writer": true in '
            "the store options to run as the only writer)"
        )
    store.cas_problem = f"the service at {where} {problem}"
    store.capabilities = dataclasses.replace(store.capabilities, conditional_write=Support.NONE)


def _payload(token: str, step: int) -> bytes:
    # Distinct bytes per write: an S3 ETag is the MD5 of the body, so equal bodies
    # would make a stale version look current.
    return json.dumps({"probe": token, "step": step}).encode()


def probe(store: Store) -> str | None:
    """Run the probe; None when the service honours compare-and-swap, else what it
    did wrong (a clause: "ignored If-None-Match: * ...")."""
    path = f"{store.path('', allow_root=True)}/{PROBE_KEY}"  # hidden: no check_key
    terms = store.cas_terms
    token = secrets.token_hex(8)
    with store._errors("probe", PROBE_KEY):
        for _ in range(ROUNDS):
            ignored: list[str] = []
            step = 1
            try:
                current = store._write_if(path, _payload(token, step), None)
                created = True
            except VersionConflict:
                created = False
            step += 1
            if created:
                try:
                    current = store._write_if(path, _payload(token, step), None)
                    ignored.append(f"{terms['create']} (it overwrote an existing object)")
                except VersionConflict:
                    pass
            else:
                read = store._read_versioned(path).version
                if read is None:  # deleted in between (another probe cannot delete it)
                    continue
                current = read
            step += 1
            try:
                stale, current = current, store._write_if(path, _payload(token, step), current)
            except VersionConflict:
                if ignored:  # a second writer is not the story: the create went through
                    return f"ignored {' and '.join(ignored)}"
                continue  # someone else wrote in between: probe again
            step += 1
            try:
                store._write_if(path, _payload(token, step), stale)
                ignored.append(f"{terms['replace']} (it accepted a stale version)")
            except VersionConflict:
                pass
            if ignored:
                return f"ignored {' and '.join(ignored)}"
            log.debug("pool-profiles: %s honours conditional writes", store.url)
            return None
    return f"refused {terms['replace']} with the current version {ROUNDS} times"
