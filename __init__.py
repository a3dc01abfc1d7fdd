"""ComfyUI entry point of the Pool Profiles pack. Kept tiny: the code lives in the
package `pool_profiles`, imported absolutely so exactly one copy is loaded whether
the pack is pip-installed or only cloned into custom_nodes/."""

import logging
import os
import sys

WEB_DIRECTORY = "./web"
NODE_CLASS_MAPPINGS: dict = {}
NODE_DISPLAY_NAME_MAPPINGS: dict = {}

_HERE = os.path.dirname(os.path.abspath(__file__))
_log = logging.getLogger("pool_profiles")


def _import_package():
    existing = sys.modules.get("pool_profiles")
    if existing is not None:
        where = os.path.dirname(os.path.dirname(os.path.abspath(existing.__file__ or "")))
        if os.path.normcase(where) != os.path.normcase(_HERE):
            _log.info("pool-profiles: using the copy already loaded from %s", where)
        return existing
    # This checkout first (its web/ matches its Python), then a pip-installed copy.
    # The path entry is only needed while importing: the package keeps its __path__.
    added = _HERE not in sys.path
    if added:
        sys.path.insert(0, _HERE)
    try:
        import pool_profiles
    finally:
        if added and _HERE in sys.path:
            sys.path.remove(_HERE)
    return pool_profiles


try:
    _import_package()
    from pool_profiles.comfy.entry import load as _load

    _loaded = _load(_HERE)
    NODE_CLASS_MAPPINGS = _loaded.nodes
    NODE_DISPLAY_NAME_MAPPINGS = _loaded.names
    if not _loaded.web:
        WEB_DIRECTORY = None
except Exception as _exc:  # never break ComfyUI's start
    _log.warning("pool-profiles: the pack could not be loaded: %s", _exc)
    WEB_DIRECTORY = None
