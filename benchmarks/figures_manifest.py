"""Manifest changes, the routes answering them, pool view, profile list, IS_CHANGED."""

from __future__ import annotations

import json
import os
from typing import Any

from pool_profiles import pools, registry
from pool_profiles.backends import open_store
from pool_profiles.store import Store

from . import figures_history
from .common import AppClient, big_manifest, json_floor, tiny_png
from .harness import Suite

P = "bench-pool"


def _counting(store: Store) -> dict[str, int]:
    """Count the storage requests made through `store` (to check "one read, one write")."""
    counts: dict[str, int] = {}
    for name in ("read_versioned", "read_if_changed", "write_if", "read_bytes", "listdir"):
        real = getattr(store, name)

        def spy(*a: Any, _real: Any = real, _name: str = name, **kw: Any) -> Any:
            counts[_name] = counts.get(_name, 0) + 1
            return _real(*a, **kw)

        setattr(store, name, spy)
    return counts


def run(suite: Suite, tmp: str, slots: int) -> None:
    store = open_store(os.path.join(tmp, "manifest-store"))
    store.write_bytes(f"{P}/manifest.json", json.dumps(big_manifest(slots), indent=2).encode())
    pools.set_label(store, P, 0, "first")  # rewritten in our layout once, as in real use
    path = store.local_path(f"{P}/manifest.json")
    assert path is not None

    def floor() -> None:
        json_floor(path)

    state = {"i": 0, "count": 0}

    def nxt() -> int:
        state["i"] += 1
        return state["i"]

    def count_slots() -> None:  # untimed: a client sends what it already knows
        state["count"] = len(pools.current_manifest(store, P)["slots"])

    changes = {
        "add": lambda: pools.add_image(store, P, tiny_png(nxt())),
        "set active": lambda: pools.set_active(store, P, nxt() % 100),
        "label": lambda: pools.set_label(store, P, 1, f"label {nxt()}"),
        "reorder": lambda: pools.reorder(store, P, [1, 0, *range(2, state["count"])]),
        "remove": lambda: pools.remove_slot(store, P, state["count"] - 1),
    }
    for label, change in changes.items():
        count_slots()
        counts = _counting(store)
        change()
        # Every way of reading the manifest counts: a stat that finds it unchanged
        # (read_if_changed) too, since on S3 it is a request.
        reads = counts.get("read_versioned", 0) + counts.get("read_if_changed", 0)
        writes = counts.get("write_if", 0)
        del store.read_versioned, store.read_if_changed, store.write_if
        del store.read_bytes, store.listdir
        one_each = reads == 1 and writes == 1
        suite.compare(
            f"{label} @ {slots} slots",
            change,
            floor,
            setup=count_slots,
            target=2.0,
            target_text="<= 2x JSON floor, 1 read + 1 write",
            note=f"{reads} read, {writes} write",
            extra_ok=one_each,
        )

    app = AppClient(store)
    try:
        # Once, untimed: a slot edit answers with the change, not the view.
        answer = app.post_json("/grid_pool/active", {"pool_id": P, "index": 7})
        assert answer["active"] == 7 and answer["count"] == slots and "slots" not in answer
        assert app.get_json(f"/grid_pool/list?pool_id={P}")["active"] == 7
        # Timed: until the answer's last byte is in (its parse is the client's cost).
        suite.compare(
            f"/active route @ {slots} slots",
            lambda: app.post_body("/grid_pool/active", {"pool_id": P, "index": nxt() % 100}),
            floor,
            target=1.2,
            target_text="<= 1.2x JSON floor (answers the change only)",
        )
        # The same after another instance changed the pool (untimed): this process's
        # kept manifest (doc_memo.py) is stale, so the change parses the bytes.
        other = open_store(store.root)
        suite.compare(
            f"/active route @ {slots} slots, after another instance's change",
            lambda: app.post_body("/grid_pool/active", {"pool_id": P, "index": nxt() % 100}),
            floor,
            setup=lambda: pools.set_label(other, P, 2, f"theirs {nxt()}"),
            target=2.0,
            target_text="<= 2x JSON floor (parses what the other wrote)",
        )
        # A pool view right after a change (the cost of building and encoding it) and
        # one of an unchanged pool (a new browser opening it: a stat and cached bytes).
        suite.compare(
            f"pool view (/list) @ {slots} slots, just changed",
            lambda: app.get_body(f"/grid_pool/list?pool_id={P}"),
            floor,
            setup=lambda: pools.set_active(store, P, nxt() % 100),
            target=2.0,
            target_text="<= 2x JSON floor",
        )
        suite.compare(
            f"pool view (/list) @ {slots} slots, unchanged",
            lambda: app.get_body(f"/grid_pool/list?pool_id={P}"),
            floor,
            target=2.0,
            target_text="<= 2x JSON floor",
        )
    finally:
        app.close()
    _profiles(suite, tmp, 1000 if slots >= 10_000 else 50)
    _is_changed(suite, store, slots)
    # History's cost per change: <= 1.2x the same change with history off.
    figures_history.run(suite, tmp, slots)


def _profiles(suite: Suite, tmp: str, count: int) -> None:
    store = open_store(os.path.join(tmp, "profiles-store"))
    entries = [
        {"id": f"p{i:05d}", "name": f"Profile {i}", "created": 1.7e9 + i} for i in range(count)
    ]
    store.write_bytes("profiles.json", json.dumps({"profiles": entries}).encode())
    assert len(registry.list_profiles(store)) == count
    path = store.local_path("profiles.json")
    assert path is not None
    app = AppClient(store)
    try:
        assert len(app.get_json("/grid_pool/profiles/list")["profiles"]) == count
        suite.compare(
            f"profile list @ {count} profiles",
            lambda: app.get_body("/grid_pool/profiles/list"),
            lambda: json_floor(path),
            target=2.0,
            target_text="<= 2x JSON floor",
        )
    finally:
        app.close()


def _is_changed(suite: Suite, big: Store, slots: int) -> None:
    small = open_store(os.path.join(os.path.dirname(big.root), "small-store"))
    for i in range(10):
        pools.add_image(small, P, tiny_png(i))
    for s in (big, small):
        pools.change_token(s, P, -1)
    counts = _counting(big)
    pools.change_token(big, P, -1)
    requests = sum(counts.values())
    for name in ("read_versioned", "read_if_changed", "write_if", "read_bytes", "listdir"):
        delattr(big, name)

    def many(store: Store) -> Any:
        return lambda: [pools.change_token(store, P, -1) for _ in range(200)]

    suite.compare(
        f"IS_CHANGED unchanged, {slots} vs 10 slots",
        many(big),
        many(small),
        target=3.0,
        target_text="<= 3x, one small request",
        note=f"{requests} storage request(s) per call",
        extra_ok=requests == 1 and counts.get("read_if_changed", 0) == 1,
    )
