"""Harbor's doublestar filters for repository names and tags."""

import pytest

from harbor_api.adapters.patterns import matches


@pytest.mark.parametrize(
    "pattern, value, expected",
    [
        ("", "anything/at/all", True),
        (None, "x", True),
        ("library/*", "library/nginx", True),
        ("library/*", "library/a/b", False),
        ("library/**", "library/a/b", True),
        ("**", "a/b/c", True),
        ("v1.?", "v1.2", True),
        ("v1.?", "v1.22", False),
        ("{dev,prod}-*", "prod-1", True),
        ("{dev,prod}-*", "test-1", False),
        ("v[0-9]", "v7", True),
        ("v[!0-9]", "v7", False),
        ("a.b", "aXb", False),  # dots are literal, not regex wildcards
        ("1.0", "1.0", True),
        ("1.0", "1.0.1", False),  # the whole value must match
    ],
)
def test_globs(pattern, value, expected):
    assert matches(pattern, value) is expected
