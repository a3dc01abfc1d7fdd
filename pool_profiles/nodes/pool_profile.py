"""Pool Profile: outputs the selected profile's id (POOL_PROFILE) for pool nodes."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from .. import registry
from ..errors import NotFoundError
from ..ids import check_id
from ..manifest import stamped_manifest
from . import runtime

log = logging.getLogger("pool_profiles.nodes")

NODE = "Pool Profile"
#: What the node outputs with no profile picked: the pool nodes then read their own pool.
NO_PROFILE = ""


def resolve_profile_id(profile: Any, profile_id: Any) -> str:
    """profile_id when set; else the id of the profile NAMED `profile` (API workflows
    pick by name); both empty -> NO_PROFILE (connected pool nodes use their own pool,
    the pool their grid shows)."""
    if isinstance(profile_id, str) and profile_id.strip():
        return check_id(profile_id.strip(), "profile_id")
    name = profile.strip() if isinstance(profile, str) else ""
    if not name:
        return NO_PROFILE
    store = runtime.get_store()
    with runtime.storage_step(NODE, store, f"looking up profile {name!r}"):
        entry = registry.find_by_name(store, name)
        if entry is None:
            known = sorted(p.get("name", "") for p in registry.list_profiles(store))
            shown = ", ".join(repr(k) for k in known[:20]) or "none"
            raise runtime.PoolNodeError(
                f"{NODE}: no profile named {name!r} in the {store.backend} store {store.url} "
                f"(known: {shown})",
                code="not_found",
            )
    return check_id(entry["id"], "profile id")


def require_profile(node: str, pid: str, name: Any = "") -> None:
    """A profile id that is not (or no longer) in the registry is an error naming it,
    never a silent empty pool (deleted elsewhere, or a stale saved workflow)."""
    store = runtime.get_store()
    with runtime.storage_step(node, store, f"looking up profile {pid!r}"):
        try:
            registry.get_profile(store, pid)
        except NotFoundError:
            named = f" ({name.strip()!r})" if isinstance(name, str) and name.strip() else ""
            raise runtime.PoolNodeError(
                f"{node}: profile {pid!r}{named} no longer exists in the {store.backend} "
                f"store {store.url} (deleted elsewhere?); pick another profile or "
                '"(no profile)"',
                code="not_found",
            ) from None


class PoolProfile:
    CATEGORY = "Pool Profiles"
    FUNCTION = "run"
    RETURN_TYPES = ("POOL_PROFILE",)
    RETURN_NAMES = ("profile",)
    DESCRIPTION = (
        "A named pool profile; connect it to the profile input of Image Pool nodes. With "
        "no profile picked they read their own pool (the one their grid shows)."
    )

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:
        return {
            "required": {
                # The profile's name; the web extension turns it into a dropdown.
                "profile": ("STRING", {"default": "", "multiline": False}),
                # The selected profile's id; hidden and kept in sync by the web extension.
                "profile_id": ("STRING", {"default": "", "multiline": False}),
            },
        }

    def run(self, profile: str = "", profile_id: str = "") -> tuple[str]:
        pid = resolve_profile_id(profile, profile_id)
        if pid != NO_PROFILE and isinstance(profile_id, str) and profile_id.strip():
            require_profile(NODE, pid, profile)  # (found by name: it exists)
        return (pid,)

    @classmethod
    def IS_CHANGED(cls, profile: str = "", profile_id: str = "", **_: Any) -> str | float:
        # Connected pool nodes cannot see this id in their own IS_CHANGED, so the pool's
        # manifest stamp is folded in here: any change to the profile's pool re-runs
        # them. One small request per queue (a stat, a conditional GET: no download
        # while unchanged), and the connected pool nodes' runs then trust that check.
        try:
            pid = resolve_profile_id(profile, profile_id)
            if pid == NO_PROFILE:
                return "none"  # the pool nodes' own IS_CHANGED track their own pools
            store = runtime.get_store()
            stamp, manifest = stamped_manifest(store, pid)
            if stamp is None:  # no manifest (yet): what the pool nodes would be shown
                shown = json.dumps(manifest, sort_keys=True, default=str).encode("utf-8")
                stamp = "none:" + hashlib.sha256(shown).hexdigest()
            return f"{pid}:{stamp}"
        except Exception as exc:  # run() reports it properly; never cache a failure
            log.debug("pool-profiles: IS_CHANGED failed: %s", exc)
            return float("nan")  # NaN never equals itself: ComfyUI re-runs the node
