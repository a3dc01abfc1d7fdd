"""What `check_store` reports: its issues, their severities, and the grace period
before a repair may touch something a write in flight could still be using."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .store import Entry

DEFAULT_GRACE_SECONDS = 600.0

ERROR, WARNING, INFO = "error", "warning", "info"


@dataclass
class Issue:
    kind: str
    id: str | None  # pool/profile id, None for store-level issues
    key: str | None  # store key concerned
    message: str
    severity: str = WARNING
    repaired: bool = False


@dataclass
class CheckReport:
    store: str
    repair: bool
    profiles: int = 0
    pools: int = 0
    issues: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No problem left (info notes and repaired issues do not count)."""
        return not any(i.severity != INFO and not i.repaired for i in self.issues)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}

    def add(self, kind: str, pid: str | None, key: str | None, message: str, severity: str):
        issue = Issue(kind, pid, key, message, severity)
        self.issues.append(issue)
        return issue


def old_enough(item: Entry, now: float, grace: float) -> bool:
    return item.mtime is not None and now - item.mtime >= grace
