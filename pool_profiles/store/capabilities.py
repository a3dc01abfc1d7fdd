"""What a backend can promise, stated once so the system never pretends."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass


class Support(str, enum.Enum):
    NATIVE = "native"  # the storage service itself guarantees it
    EMULATED = "emulated"  # we guarantee it with locks / extra round trips
    NONE = "none"  # not guaranteed: behave as a single writer


@dataclass(frozen=True)
class Capabilities:
    conditional_write: Support
    """Compare-and-swap on one object; without it concurrent writers can lose updates."""
    atomic_replace: Support
    """Readers see the old or the new object, never a partial one."""
    server_side_copy: Support
    """Copies move no bytes through this host."""
    consistent_listing: Support
    """A listing reflects writes made just before, by any process."""
    shared: bool = True
    """Other processes (and machines) see the same data; False for process memory."""

    @property
    def single_writer(self) -> bool:
        return self.conditional_write is Support.NONE

    def as_dict(self) -> dict[str, str | bool]:
        return {k: (v.value if isinstance(v, Support) else v) for k, v in asdict(self).items()}
