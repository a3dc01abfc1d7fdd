"""What the repo-root __init__.py calls: node mappings, routes, start-up checks, and
the guards that keep a second copy of the pack (or the earlier local-only pack with
the same node names and routes) from breaking ComfyUI's start."""

from __future__ import annotations

import logging
import os
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("pool_profiles")

ROUTE_PREFIX = "/grid_pool/"

_lock = threading.Lock()
_loaded_from: str | None = None


@dataclass
class Loaded:
    nodes: dict[str, Any] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    #: False when this copy must not serve its web/ extension (it would act on nodes
    #: that another pack registered).
    web: bool = True


def prompt_server() -> Any | None:
    """ComfyUI's PromptServer instance, or None outside ComfyUI. Looked up in
    sys.modules only: importing some other top-level `server` module would be wrong."""
    mod = sys.modules.get("server")
    return getattr(getattr(mod, "PromptServer", None), "instance", None)


def _registered_nodes() -> dict[str, Any]:
    mod = sys.modules.get("nodes")
    mappings = getattr(mod, "NODE_CLASS_MAPPINGS", None)
    return mappings if isinstance(mappings, dict) else {}


def _owner(cls: Any) -> str:
    return str(getattr(cls, "RELATIVE_PYTHON_MODULE", None) or getattr(cls, "__module__", "?"))


def node_clashes(ours: dict[str, Any]) -> dict[str, str]:
    """Our node type names that another pack already registered -> who registered them."""
    registered = _registered_nodes()
    return {
        name: _owner(registered[name])
        for name, cls in ours.items()
        if name in registered and registered[name] is not cls
    }


def route_clashes(routes: Any) -> list[str]:
    """Paths under /grid_pool/ already in ComfyUI's route table (adding the same method
    and path again makes aiohttp refuse to start the server)."""
    found = []
    for route in routes:
        path = getattr(route, "path", None)
        if isinstance(path, str) and path.startswith(ROUTE_PREFIX):
            found.append(f"{getattr(route, 'method', '?')} {path}")
    return found


def register_routes(server: Any) -> bool:
    routes = server.routes
    taken = route_clashes(routes)
    if taken:
        log.warning(
            "pool-profiles: %d /grid_pool/ routes are already registered (e.g. %s), by "
            "another copy of this pack or the earlier local-only Image Pool pack; this "
            "pack's routes are not added. Keep only one of them in custom_nodes.",
            len(taken),
            taken[0],
        )
        return False
    try:
        from ..server.routes import add_routes
    except ImportError as exc:
        log.warning("pool-profiles: HTTP routes are not available (%s); the nodes still run", exc)
        return False
    from .stage import stage_image
    from .store import get_store

    add_routes(routes, get_store, stage_image=stage_image, on_change=_announcer(server))
    return True


def _announcer(server: Any) -> Any:
    """Changes made through this ComfyUI reach every open tab at once over ComfyUI's
    websocket (send_sync queues thread-safely; the browser listens with
    api.addEventListener("pool_profiles.changed"))."""
    from ..server.events import EVENT

    send = getattr(server, "send_sync", None)
    if not callable(send):
        return None
    return lambda event: send(EVENT, event)


def _check_after_start(server: Any, ours: dict[str, Any]) -> None:
    """A pack loaded after this one can still replace our node types; say so once the
    server starts (every custom node is loaded by then)."""

    async def check(_app: Any) -> None:
        replaced = node_clashes(ours)
        if replaced:
            log.warning(
                "pool-profiles: node types %s were replaced by %s, loaded after this pack "
                "(the earlier local-only Image Pool pack?). Remove one of the two packs "
                "from custom_nodes.",
                ", ".join(sorted(replaced)),
                ", ".join(sorted(set(replaced.values()))),
            )

    try:
        server.app.on_startup.append(check)
    except Exception:  # a frozen or unusual app: the warning is only a courtesy
        pass


def load(pack_dir: str) -> Loaded:
    """Node mappings for ComfyUI (and, inside ComfyUI, routes and the store check).
    Never raises: a problem is one warning and fewer features, not a broken start."""
    global _loaded_from
    try:
        from ..nodes import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS
    except ImportError as exc:  # torch or numpy missing: outside ComfyUI, most likely
        log.warning("pool-profiles: nodes not available: %s", exc)
        return Loaded(web=False)
    loaded = Loaded(dict(NODE_CLASS_MAPPINGS), dict(NODE_DISPLAY_NAME_MAPPINGS))
    server = prompt_server()
    if server is None:
        return loaded  # imported outside ComfyUI: mappings only
    pack_dir = os.path.abspath(pack_dir)
    with _lock:
        if _loaded_from is not None:
            log.warning(
                "pool-profiles: the pack is loaded twice (%s, and first %s); the second copy "
                "is ignored. Remove one of them from custom_nodes.",
                pack_dir,
                _loaded_from,
            )
            return Loaded(web=False)
        clashes = node_clashes(loaded.nodes)
        if clashes:
            log.warning(
                "pool-profiles: node types %s are already registered by %s (the earlier "
                "local-only Image Pool pack?); this pack is not loaded so that one keeps "
                "working. Remove one of the two packs from custom_nodes.",
                ", ".join(sorted(clashes)),
                ", ".join(sorted(set(clashes.values()))),
            )
            return Loaded(web=False)
        _loaded_from = pack_dir
    try:
        register_routes(server)
    except Exception as exc:  # routes are not worth a broken ComfyUI start
        log.warning("pool-profiles: HTTP routes could not be registered: %s", exc)
    _check_after_start(server, loaded.nodes)
    from .store import open_at_startup

    open_at_startup()
    return loaded
