"""The benchmark suite's command runs and reports every figure of issue 10 with its
numbers (a smoke test on tiny data: speed is the suite's business, not this test's)."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("s3fs")

ROOT = Path(__file__).resolve().parent.parent

# (group, what a figure's name starts with): every figure the issue asks for.
EXPECTED = [
    ("manifest", "add @"),
    ("manifest", "set active @"),
    ("manifest", "label @"),
    ("manifest", "reorder @"),
    ("manifest", "remove @"),
    ("manifest", "/active route @"),
    ("manifest", "pool view (/list) @"),
    ("manifest", "profile list @"),
    ("manifest", "IS_CHANGED unchanged"),
    ("node", "node run, local"),
    ("node", "node run, S3 warm"),
    ("node", "revisit a slot"),
    ("node", "list node, "),
    ("archive", "export"),
    ("archive", "import"),
    ("archive", "duplicate"),
    ("archive", "event-loop stall during export"),
    ("archive", "event-loop stall during import"),
    ("grid", "first screen"),
    ("grid", "all "),
    ("grid", "event-loop stall while thumbnailing"),
    ("memory", "8 concurrent"),
    ("dataset", "dataset export"),
    ("dataset", "dataset import"),
]


def test_quick_run_reports_every_figure(tmp_path):
    groups = ["manifest", "node", "grid", "memory"]
    if shutil.which("zip") and shutil.which("unzip"):  # the archive figures' baselines
        groups.insert(2, "archive")
        groups.append("dataset")  # its baselines: cp -r and unzip
    out = tmp_path / "figures.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "benchmarks.run", "--quick", "--json", str(out)]
    proc = subprocess.run(
        [*cmd, "--only", ",".join(groups)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    figures = report["figures"]
    names = [f["name"] for f in figures]
    for group, prefix in EXPECTED:
        if group in groups:
            assert any(n.startswith(prefix) for n in names), f"no figure {prefix!r} in {names}"
    for f in figures:
        for field in ("ours", "baseline", "ratio", "target"):
            assert isinstance(f[field], (int, float)) and not math.isnan(f[field]), (f, field)
        assert isinstance(f["met"], bool) and f["target_text"]
        assert f["name"] in proc.stdout  # printed in the table too
    assert "targets met" in proc.stdout
