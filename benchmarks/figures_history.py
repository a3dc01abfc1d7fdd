"""History's cost on the change path: add, remove and label at N slots with history
on (the version kept, pruning included) against the same change with history off
(POOL_PROFILES_HISTORY_VERSIONS=0), interleaved. Each timed run is a batch of
PRUNE_EVERY changes, so the one prune a batch triggers is in the figure, not hidden
by the median."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from pool_profiles import history, pools
from pool_profiles.backends import open_store
from pool_profiles.history.entries import PRUNE_EVERY

from .common import big_manifest, tiny_png
from .harness import Suite

P = "bench-history"


def _with_history(on: bool, fn: Callable[[], Any]) -> Callable[[], None]:
    def run() -> None:
        if on:
            os.environ.pop(history.ENV_VERSIONS, None)
        else:
            os.environ[history.ENV_VERSIONS] = "0"
        try:
            for _ in range(PRUNE_EVERY):
                fn()
        finally:
            os.environ.pop(history.ENV_VERSIONS, None)

    return run


def run(suite: Suite, tmp: str, slots: int) -> None:
    stores = {}
    for on in (True, False):
        store = open_store(os.path.join(tmp, f"history-{'on' if on else 'off'}"))
        data = json.dumps(big_manifest(slots)).encode()
        store.write_bytes(f"{P}/manifest.json", data)
        stores[on] = store
    state = {"i": 0}

    def nxt() -> int:
        state["i"] += 1
        return state["i"]

    # Past the bound, as a pool in use is: every batch prunes and collects.
    warm = _with_history(True, lambda: pools.set_label(stores[True], P, 0, f"w{nxt()}"))
    for _ in range(history.max_versions() // PRUNE_EVERY + 2):
        warm()
    saved = os.environ.get(history.ENV_VERSIONS)
    changes: dict[str, Callable[[Any], Any]] = {
        "label": lambda s: pools.set_label(s, P, 1, f"label {nxt()}"),
        "add": lambda s: pools.add_image(s, P, tiny_png(nxt())),
        "remove": lambda s: pools.remove_slot(s, P, len(pools.current_manifest(s, P)["slots"]) - 1),
    }
    try:
        for label, change in changes.items():
            suite.compare(
                f"{label} with history @ {slots} slots (x{PRUNE_EVERY})",
                _with_history(True, lambda c=change: c(stores[True])),
                _with_history(False, lambda c=change: c(stores[False])),
                target=1.2,
                target_text="<= 1.2x history off",
                note="one version written per change, pruning included",
            )
    finally:
        if saved is None:
            os.environ.pop(history.ENV_VERSIONS, None)
        else:
            os.environ[history.ENV_VERSIONS] = saved
