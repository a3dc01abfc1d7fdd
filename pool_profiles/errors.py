"""The errors the core raises. Each carries a short `code` and an HTTP `status`, so
the server, the nodes and the CLI can report it the same way without guessing."""

from __future__ import annotations


class PoolProfilesError(Exception):
    """Base class: a message fit to show a user, plus a short machine code."""

    code = "error"
    status = 500

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.code


class ConfigError(PoolProfilesError):
    """Configuration that cannot work (unknown scheme, bad options, unreachable store)."""

    code = "config"
    status = 503


class ValidationError(PoolProfilesError):
    """Input that breaks a rule (bad id, bad name, not an image, bad zip)."""

    code = "invalid"
    status = 400


class NotFoundError(PoolProfilesError):
    code = "not_found"
    status = 404


class ConflictError(PoolProfilesError):
    """The request clashes with what is stored (name taken, too many concurrent writers)."""

    code = "conflict"
    status = 409


class VersionConflict(ConflictError):
    """A conditional write found a different version than the one it read."""

    code = "version_conflict"


class TooLargeError(PoolProfilesError):
    code = "too_large"
    status = 413


class StorageError(PoolProfilesError):
    """The backend failed (network, permissions, disk); nothing about the input is wrong."""

    code = "storage"
    status = 503


class CorruptDataError(StorageError):
    """A stored document does not parse. It is kept as it is (never replaced silently)."""

    code = "corrupt"
