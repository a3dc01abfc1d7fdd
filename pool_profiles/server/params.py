"""Typed fields out of request bodies and queries, checked at the boundary."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import ids
from ..blobs import check_blob_name
from ..errors import ValidationError
from .errors import BadRequest

#: Far above any real pool; keeps absurd numbers out of the core.
MAX_INDEX = 1_000_000


def require(doc: Mapping[str, Any], key: str) -> Any:
    if key not in doc:
        raise BadRequest(f"missing field {key!r}")
    return doc[key]


def get_id(doc: Mapping[str, Any], key: str = "id") -> str:
    return ids.check_id(require(doc, key), key)


def get_text(doc: Mapping[str, Any], key: str, *, optional: bool = False) -> str | None:
    if optional and doc.get(key) is None:
        return None
    value = require(doc, key)
    if not isinstance(value, str):
        raise BadRequest(f"field {key!r} must be text")
    return value


def to_index(value: Any, key: str = "index", *, allow_active: bool = False) -> int:
    """A slot index from JSON (int) or a form field (decimal text)."""
    if isinstance(value, str):
        try:
            value = int(value.strip(), 10)
        except ValueError:
            raise BadRequest(f"field {key!r} must be an integer") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"field {key!r} must be an integer")
    low = -1 if allow_active else 0
    if not low <= value <= MAX_INDEX:
        raise BadRequest(f"field {key!r} is out of range")
    return value


def get_index(doc: Mapping[str, Any], key: str = "index", *, allow_active: bool = False) -> int:
    return to_index(require(doc, key), key, allow_active=allow_active)


def get_order(doc: Mapping[str, Any], key: str = "order") -> list[int]:
    value = require(doc, key)
    if not isinstance(value, list) or len(value) > MAX_INDEX:
        raise BadRequest(f"field {key!r} must be a list of slot indexes")
    return [to_index(v, key) for v in value]


def query_id(query: Mapping[str, str], key: str) -> str:
    if key not in query:
        raise BadRequest(f"missing query parameter {key!r}")
    return ids.check_id(query[key], key)


def get_image(doc: Mapping[str, Any], key: str = "image") -> str | None:
    """The optional image name a slot edit names its slot by (the client's view): a
    checked blob name, or None."""
    value = doc.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadRequest(f"field {key!r} must be text")
    try:
        return check_blob_name(value)
    except ValidationError as exc:
        raise BadRequest(f"field {key!r} is not an image of a pool") from exc
