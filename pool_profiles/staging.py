"""Staged pools: data written under a fresh id before its registry entry exists (an
import, a duplicate). A marker object is written first and removed once the entry is
registered, so a stage a crash or a failing store left behind is recognisable:
`check` reports it and `--repair` removes it after the grace period. A node's own
pool never has a marker, so the two are never confused."""

from __future__ import annotations

import json
import logging
import os
import socket
import time

from .errors import PoolProfilesError
from .ids import check_id
from .store import Store

log = logging.getLogger("pool_profiles.staging")

#: Not a blob name (check_blob_name refuses .json), so no rebuild ever adopts it.
MARKER = "importing.json"
#: A long stage rewrites its marker this often, so a live one never looks stale.
HEARTBEAT_SECONDS = 60.0


def marker_key(pool_id: str) -> str:
    return f"{check_id(pool_id, 'pool id')}/{MARKER}"


class Stage:
    """`stage = Stage.begin(store, pid, "import")` writes the marker; call
    `stage.beat()` during long work and `stage.commit()` right after the registry entry
    is written. A stage that fails keeps its marker while the caller deletes the data;
    if that fails too (or the process dies), `check` finds what is left."""

    def __init__(self, store: Store, pool_id: str, what: str, clock=time.time) -> None:
        self.store = store
        self.pool_id = pool_id
        self.what = what
        self._clock = clock
        self._written = 0.0

    @classmethod
    def begin(cls, store: Store, pool_id: str, what: str) -> Stage:
        stage = cls(store, pool_id, what)
        stage._write()
        return stage

    def _write(self) -> None:
        now = self._clock()
        doc = {"stage": self.what, "started": now, "host": socket.gethostname(), "pid": os.getpid()}
        self.store.write_bytes(marker_key(self.pool_id), json.dumps(doc).encode("utf-8"))
        self._written = now

    def beat(self) -> None:
        """Rewrite the marker when it is getting old (its time is what check reads)."""
        if self._clock() - self._written >= HEARTBEAT_SECONDS:
            self._write()

    def commit(self) -> None:
        """The entry is registered: the data is a profile now, the marker goes."""
        try:
            self.store.delete(marker_key(self.pool_id))
        except PoolProfilesError as exc:  # harmless: check removes a committed marker
            log.warning("pool-profiles: could not remove %s: %s", marker_key(self.pool_id), exc)
