"""What the tests do when a storage service they need is missing (tests/ is on
pytest's pythonpath)."""

from __future__ import annotations

import importlib.util
import os

import pytest


def unavailable(why: str) -> None:
    """Skip, or under CI=true fail: CI must provide every service (see .ci/run)."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{why} (CI must provide it: see .ci/run)")
    pytest.skip(why)


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None
