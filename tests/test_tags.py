"""Tags in labels and the one filter syntax (pool_profiles/tags.py); the same cases
(tests/tag_cases.json) drive web/lib/tags.js in the browser suite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pool_profiles import tags
from pool_profiles.errors import ValidationError

CASES = json.loads((Path(__file__).parent / "tag_cases.json").read_text("utf-8"))


@pytest.mark.parametrize(("label", "expected"), sorted(CASES["tags"].items()))
def test_parse_tags(label, expected):
    assert tags.parse_tags(label) == expected


@pytest.mark.parametrize(("text", "expected"), sorted(CASES["filters"].items()))
def test_filters_select_the_same_slots_everywhere(text, expected):
    slots = [{"label": label} for label in CASES["labels"]]
    assert tags.parse_filter(text).select(slots) == expected


@pytest.mark.parametrize("text", CASES["bad_filters"])
def test_bad_filters_are_one_line_errors(text):
    with pytest.raises(ValidationError) as err:
        tags.parse_filter(text)
    assert "\n" not in err.value.message and err.value.code == "bad_filter"


def test_cli_form_and_or():
    labels = [{"label": x} for x in CASES["labels"]]
    assert tags.filter_of(["red"], []).select(labels) == [0, 5]
    assert tags.filter_of(["red", "front"], []).select(labels) == [0]
    assert tags.filter_of([], ["green", "car"]).select(labels) == []  # "red car" is one tag
    assert tags.filter_of([], ["blue", "red car"]).select(labels) == [1, 2]
    assert tags.filter_of(["red"], ["back", "front"]).select(labels) == [0, 5]
    with pytest.raises(ValidationError):
        tags.filter_of(["a|b"], [])
    with pytest.raises(ValidationError):
        tags.parse_filter("x" * (tags.FILTER_MAX + 1))
