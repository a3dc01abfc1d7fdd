"""Timing and reporting for the benchmark suite: every figure is a ratio to a baseline
measured in the same run, the two interleaved (ours, baseline, ours, ...) so a machine
whose speed drifts moves both, and the ratio is the median of the per-pair ratios."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Figure:
    name: str
    ours: float  # seconds (or bytes, per `unit`)
    baseline: float
    ratio: float
    target: float  # the ratio must be <= target
    target_text: str
    unit: str = "s"
    note: str = ""
    runs: int = 0
    extra_ok: bool = True  # a non-timing condition of the target (e.g. request counts)

    @property
    def met(self) -> bool:
        return self.ratio <= self.target and self.extra_ok

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "met": self.met}


@dataclass
class Suite:
    rounds: int = 5
    figures: list[Figure] = field(default_factory=list)

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        print(_row(figure), flush=True)
        return figure

    def compare(
        self,
        name: str,
        ours: Callable[[], Any],
        baseline: Callable[[], Any],
        *,
        target: float,
        target_text: str,
        setup: Callable[[], Any] | None = None,
        note: str = "",
        extra_ok: bool = True,
        rounds: int | None = None,
        after: Callable[[], tuple[bool, str]] | None = None,
    ) -> Figure:
        """Time `ours` and `baseline` interleaved, `setup()` (untimed) before each;
        `after()` may then judge a non-timing condition: (ok, note)."""
        t_ours, t_base = interleave(ours, baseline, rounds or self.rounds, setup)
        ratios = [a / b for a, b in zip(t_ours, t_base, strict=True) if b > 0]
        if after is not None:
            extra_ok, note = after()
        return self.add(
            Figure(
                name,
                statistics.median(t_ours),
                statistics.median(t_base),
                statistics.median(ratios) if ratios else float("inf"),
                target,
                target_text,
                note=note,
                runs=len(t_ours),
                extra_ok=extra_ok,
            )
        )

    def table(self) -> str:
        head = f"{'figure':<52} {'ours':>10} {'baseline':>10} {'ratio':>7} {'target':>8}  met"
        return "\n".join([head, "-" * len(head)] + [_row(f) for f in self.figures])

    def write_json(self, path: str, meta: dict[str, Any]) -> None:
        with open(path, "w", encoding="utf-8") as f:
            json.dump({**meta, "figures": [f.as_json() for f in self.figures]}, f, indent=2)


def _fmt(value: float, unit: str) -> str:
    if unit == "B":
        return f"{value / 2**20:.1f}MiB"
    if value >= 1:
        return f"{value:.2f}s"
    return f"{value * 1e3:.1f}ms"


def _row(f: Figure) -> str:
    met = "yes" if f.met else "NO"
    line = (
        f"{f.name:<52} {_fmt(f.ours, f.unit):>10} {_fmt(f.baseline, f.unit):>10} "
        f"{f.ratio:>7.2f} {'<=' + format(f.target, 'g'):>8}  {met}"
    )
    return line + (f"  ({f.note})" if f.note else "")


def timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def interleave(
    ours: Callable[[], Any],
    baseline: Callable[[], Any],
    rounds: int,
    setup: Callable[[], Any] | None = None,
) -> tuple[list[float], list[float]]:
    t_ours: list[float] = []
    t_base: list[float] = []
    for i in range(rounds):
        # Alternate which goes first, so neither always runs on a warmer cache.
        order = [(ours, t_ours), (baseline, t_base)]
        for fn, out in order if i % 2 == 0 else order[::-1]:
            if setup is not None:
                setup()
            out.append(timed(fn))
    return t_ours, t_base


def run_cmd(*argv: str) -> None:
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def child_peak_rss(code: str, *args: str) -> dict[str, Any]:
    """Run `code` in a fresh Python; it prints one JSON line (e.g. its RSS growth)."""
    out = subprocess.run(
        [sys.executable, "-c", code, *args], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])
