"""The API body guard's nesting scan (harbor_api/body_guard.py)."""

import json

import pytest

from harbor_api.body_guard import MAX_DEPTH, nesting_depth_exceeds


@pytest.mark.parametrize(
    "body, deep",
    [
        (b"[" * MAX_DEPTH + b"]" * MAX_DEPTH, False),
        (b"[" * (MAX_DEPTH + 1), True),
        (b'{"a":' * (MAX_DEPTH + 1) + b"1" + b"}" * (MAX_DEPTH + 1), True),
        (json.dumps({"s": "[" * 500 + "{" * 500}).encode(), False),
        (json.dumps({"s": '\\"' + "[" * 500, "t": "\\"}).encode(), False),
        (json.dumps(["\\", "[" * 200]).encode(), False),
        (b'"\\"' + b"[" * 100 + b'"' + b"[" * (MAX_DEPTH + 1), True),
        (b"[]" * 10_000, False),
    ],
)
def test_nesting_depth(body, deep):
    assert nesting_depth_exceeds(body) is deep
