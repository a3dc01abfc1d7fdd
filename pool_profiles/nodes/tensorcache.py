"""Decoded tensors of recently used blobs, so revisiting a slot (A -> B -> A) does not
decode again. Keyed by store + endpoint + pool + blob name + how it was decoded; blob
names are immutable once written (a local file's identity is part of the key too, in
case something outside the pack rewrote it). Bounded in bytes; least recently used
entries go first. Size: POOL_PROFILES_TENSOR_CACHE_MB (0 turns it off)."""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Hashable

import torch

log = logging.getLogger("pool_profiles.nodes")

ENV_SIZE = "POOL_PROFILES_TENSOR_CACHE_MB"
DEFAULT_MB = 1024


def size_from_env() -> int:
    raw = os.environ.get(ENV_SIZE, "").strip()
    if not raw:
        return DEFAULT_MB * 2**20
    try:
        return max(0, int(float(raw) * 2**20))
    except ValueError:
        log.warning("pool-profiles: %s=%r is not a number; using %d", ENV_SIZE, raw, DEFAULT_MB)
        return DEFAULT_MB * 2**20


def _nbytes(t: torch.Tensor) -> int:
    return t.element_size() * t.nelement()


class TensorCache:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.used = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[Hashable, torch.Tensor] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> torch.Tensor | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: Hashable, tensor: torch.Tensor) -> None:
        size = _nbytes(tensor)
        if size > self.max_bytes:
            return  # bigger than the whole cache: keeping it would evict everything
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.used -= _nbytes(old)
            self._entries[key] = tensor
            self.used += size
            while self.used > self.max_bytes and self._entries:
                _, dropped = self._entries.popitem(last=False)
                self.used -= _nbytes(dropped)

    def __len__(self) -> int:
        return len(self._entries)
