"""The storage contract: `Store` plus `Capabilities`."""

from .capabilities import Capabilities, Support
from .content import content_version, encode_json
from .keys import check_key, join
from .store import Entry, Store, VersionConflict, Versioned

__all__ = [
    "Capabilities",
    "Entry",
    "Store",
    "Support",
    "VersionConflict",
    "Versioned",
    "check_key",
    "content_version",
    "encode_json",
    "join",
]
