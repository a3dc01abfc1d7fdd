"""A process-wide bound on the memory that decoded images hold at once.

Each upload, import member or thumbnail decodes an image; a decoded 8k x 8k RGBA image
is 256 MiB however small its file. Without a bound, eight concurrent max-size uploads
hold eight of them. Every decode first takes its estimated size from one shared budget
and waits (it does not fail) while the budget is spent; the budget is by default what
one image at the pixel limit costs, so small images decode in parallel and a max-size
one decodes alone. The budget is configurable (POOL_PROFILES_DECODE_BUDGET_BYTES)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass

#: Bytes a decoded pixel costs: Pillow holds RGB, RGBA, CMYK and 32-bit modes in 4.
BYTES_PER_PIXEL = 4


@dataclass(frozen=True)
class BudgetState:
    in_use: int  # bytes taken by decodes running now
    running: int  # decodes running now
    waiting: int  # decodes waiting for budget


class DecodeBudget:
    """A weighted semaphore whose capacity is given per acquisition (the limits in
    force may change between requests). A decode larger than the whole budget still
    runs, alone: the pixel limit, not this, is what refuses images."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._in_use = 0
        self._running = 0
        self._waiting = 0
        self.peak_running = 0  # for tests and diagnostics
        self.peak_in_use = 0

    @contextlib.contextmanager
    def hold(self, cost: int, capacity: int) -> Iterator[None]:
        cost = max(0, int(cost))
        with self._cond:
            self._waiting += 1
            try:
                while self._running and self._in_use + cost > capacity:
                    self._cond.wait()
            finally:
                self._waiting -= 1
            self._in_use += cost
            self._running += 1
            self.peak_running = max(self.peak_running, self._running)
            self.peak_in_use = max(self.peak_in_use, self._in_use)
        try:
            yield
        finally:
            with self._cond:
                self._in_use -= cost
                self._running -= 1
                self._cond.notify_all()

    def state(self) -> BudgetState:
        with self._cond:
            return BudgetState(self._in_use, self._running, self._waiting)

    def reset_peaks(self) -> None:
        with self._cond:
            self.peak_running = self._running
            self.peak_in_use = self._in_use


#: The one budget of this process: uploads, imports and thumbnails share it.
BUDGET = DecodeBudget()
