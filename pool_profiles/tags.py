"""Tags: a slot's label carries them, comma-separated (`front, red`); a label without a
comma is one tag. One filter syntax for the list node, the CLI and the grid (whose
twin is web/lib/tags.js; tests/tag_cases.json holds the cases both must pass):

    front, red        every term must match (AND)
    front | side      a term with `|` matches any of its alternatives (OR)
    -blurry           a term starting with `-` must NOT match
    fro*              a trailing `*` matches tags starting with it

Tags compare trimmed and case-insensitively; inner spaces count (`red car`). An empty
filter matches every slot."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import ValidationError

FILTER_MAX = 500


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def parse_tags(label: Any) -> list[str]:
    """The tags of a label, as written (trimmed, empty ones dropped, first of twins)."""
    if not isinstance(label, str):
        return []
    seen: set[str] = set()
    out: list[str] = []
    for part in label.split(","):
        tag = " ".join(part.split())
        if tag and _norm(tag) not in seen:
            seen.add(_norm(tag))
            out.append(tag)
    return out


def _term_matches(alternatives: Sequence[str], tags: set[str]) -> bool:
    for alt in alternatives:
        if alt.endswith("*"):
            stem = alt[:-1]
            if any(t.startswith(stem) for t in tags):
                return True
        elif alt in tags:
            return True
    return False


@dataclass(frozen=True)
class TagFilter:
    """Terms all of which must match; each term is its alternatives (any may match)."""

    required: tuple[tuple[str, ...], ...] = ()
    excluded: tuple[tuple[str, ...], ...] = ()
    text: str = field(default="", compare=False)

    @property
    def empty(self) -> bool:
        return not self.required and not self.excluded

    def matches(self, label: Any) -> bool:
        tags = {_norm(t) for t in parse_tags(label)}
        return all(_term_matches(alts, tags) for alts in self.required) and not any(
            _term_matches(alts, tags) for alts in self.excluded
        )

    def select(self, slots: Iterable[dict[str, Any]]) -> list[int]:
        """Indexes (in pool order) of the slots whose label matches."""
        return [i for i, s in enumerate(slots) if self.matches(s.get("label"))]


def _term(raw: str) -> tuple[bool, tuple[str, ...]]:
    text = raw.strip()
    negate = text.startswith("-")
    if negate:
        text = text[1:]
    alts = tuple(a for a in (_norm(x) for x in text.split("|")) if a)
    if any(a == "*" or "*" in a[:-1] for a in alts):
        raise ValidationError(
            f"tag filter term {raw.strip()!r}: '*' may only end a tag (fro*)", code="bad_filter"
        )
    return negate, alts


def parse_filter(text: Any) -> TagFilter:
    """A filter from its text (see the module doc). Bad input: ValidationError."""
    if text is None:
        return TagFilter()
    if not isinstance(text, str):
        raise ValidationError("tag filter must be text", code="bad_filter")
    if len(text) > FILTER_MAX:
        raise ValidationError(
            f"tag filter is {len(text)} characters long; at most {FILTER_MAX}", code="bad_filter"
        )
    required: list[tuple[str, ...]] = []
    excluded: list[tuple[str, ...]] = []
    for raw in text.split(","):
        if not raw.strip():
            continue
        negate, alts = _term(raw)
        if not alts:
            raise ValidationError(f"tag filter term {raw.strip()!r} is empty", code="bad_filter")
        (excluded if negate else required).append(alts)
    return TagFilter(tuple(required), tuple(excluded), text.strip())


def filter_of(all_tags: Sequence[str] = (), any_tags: Sequence[str] = ()) -> TagFilter:
    """The CLI's form: every --tag must match (AND); at least one --any-tag (OR)."""
    required: list[tuple[str, ...]] = []
    for tag in all_tags:
        negate, alts = _term(tag)
        if negate or len(alts) != 1:
            raise ValidationError(f"--tag {tag!r}: give one tag per --tag", code="bad_filter")
        required.append(alts)
    anys = []
    for tag in any_tags:
        negate, alts = _term(tag)
        if negate or len(alts) != 1:
            raise ValidationError(f"--any-tag {tag!r}: give one tag each", code="bad_filter")
        anys.append(alts[0])
    if anys:
        required.append(tuple(anys))
    return TagFilter(tuple(required), ())
