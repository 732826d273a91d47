"""Replication's pure rules: doublestar globs and Harbor's dest_namespace mapping."""

from __future__ import annotations

import pytest

from harbor_api.errors import BadRequestError
from harbor_api.services.replication.filters import glob_match, parse_filters
from harbor_api.services.replication.plan import destination_name


@pytest.mark.parametrize(
    "pattern, value, hit",
    [
        ("library/*", "library/app", True),
        ("library/*", "library/app/sub", False),
        ("library/**", "library/app/sub", True),
        ("**", "a/b/c", True),
        ("v1.?", "v1.2", True),
        ("v1.?", "v1.23", False),
        ("{dev,prod}-*", "prod-7", True),
        ("{dev,prod}-*", "test-7", False),
        ("v[0-9]", "v7", True),
        ("v[!0-9]", "v7", False),
        ("a.b", "aXb", False),  # a dot is a dot
    ],
)
def test_glob(pattern, value, hit):
    assert glob_match(pattern, value) is hit


@pytest.mark.parametrize(
    "repository, namespace, count, expected",
    [
        ("library/app", "", -1, "library/app"),
        ("library/app", "mirror", -1, "mirror/app"),
        ("library/a/b", "mirror", -1, "mirror/a/b"),
        ("library/app", "mirror", 0, "mirror/library/app"),
        ("library/a/b", "mirror", 2, "mirror/b"),
        ("library/a/b", "m/n", 1, "m/n/a/b"),
    ],
)
def test_destination_name(repository, namespace, count, expected):
    assert destination_name(repository, namespace, count) == expected


def test_destination_name_needs_components_left():
    with pytest.raises(BadRequestError, match="path components"):
        destination_name("library/app", "mirror", 2)


def test_filters_round_trip_and_one_per_type():
    parsed = parse_filters(
        [
            {"type": "tag", "value": "v*", "decoration": "excludes"},
            {"type": "resource", "value": "artifact"},
        ]
    )
    assert [f.render() for f in parsed] == [
        {"type": "tag", "value": "v*", "decoration": "excludes"},
        {"type": "resource", "value": "artifact"},
    ]
    with pytest.raises(BadRequestError):
        parse_filters([{"type": "name", "value": "a"}, {"type": "name", "value": "b"}])
