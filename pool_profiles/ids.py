"""The rules for ids and names, applied at every boundary. No request value ever
becomes a path: ids match one strict pattern and blob names are made by us."""

from __future__ import annotations

import re
import unicodedata
import uuid

from .errors import ValidationError

ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}\Z")  # \Z: "$" also matches before "\n"
NAME_MAX = 100
LABEL_MAX = 200


def check_id(value: object, what: str = "id") -> str:
    """Return `value` if it is a valid pool/profile id, else raise ValidationError."""
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        shown = repr(value)[:40]
        raise ValidationError(
            f"{what} {shown} is not valid: use 1-64 letters, digits, '_' or '-'", code="bad_id"
        )
    return value


def new_id() -> str:
    return uuid.uuid4().hex


def _has_control(text: str) -> bool:
    # "Cs": a lone surrogate (e.g. from a mis-decoded command line) cannot be stored as UTF-8.
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in text)


def clean_name(value: object) -> str:
    """A profile name: trimmed display text, 1-100 characters, no control characters."""
    if not isinstance(value, str):
        raise ValidationError("profile name must be text", code="bad_name")
    name = value.strip()
    if not name:
        raise ValidationError("profile name is empty", code="bad_name")
    if len(name) > NAME_MAX:
        raise ValidationError(
            f"profile name is {len(name)} characters long; at most {NAME_MAX}", code="bad_name"
        )
    if _has_control(name):
        raise ValidationError(
            "profile name contains control or invalid characters", code="bad_name"
        )
    return name


def clean_label(value: object) -> str:
    """A slot label: trimmed text, at most 200 characters, no control characters."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError("label must be text", code="bad_label")
    label = value.strip()
    if len(label) > LABEL_MAX:
        raise ValidationError(f"label is longer than {LABEL_MAX} characters", code="bad_label")
    if _has_control(label):
        raise ValidationError("label contains control or invalid characters", code="bad_label")
    return label


def tidy_label(value: object) -> str:
    """A label read from data we did not write (an imported manifest): made valid
    instead of refused, so a zip is not rejected for its captions."""
    if not isinstance(value, str):
        return ""
    kept = "".join(" " if _has_control(ch) else ch for ch in value)
    return kept.strip()[:LABEL_MAX]


def same_name(a: str, b: str) -> bool:
    """Names are unique ignoring case."""
    return a.strip().casefold() == b.strip().casefold()
