"""Where the shared browser components (web/lib) are, so the standalone page mounts
the very files ComfyUI loads. In a checkout (or an editable install, or a clone in
custom_nodes/) they are the repo's web/lib; a built wheel carries a copy inside the
package (pool_profiles/_web/lib, see setup.py)."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent
#: the copy a wheel carries, then the checkout's own folder
CANDIDATES = (_PACKAGE / "_web" / "lib", _PACKAGE.parent / "web" / "lib")
#: a file every real copy has: a stray "web/lib" next to site-packages is not ours
MARKER = "pool_grid.js"


def web_lib_dir() -> Path | None:
    for candidate in CANDIDATES:
        if (candidate / MARKER).is_file():
            return candidate
    return None
