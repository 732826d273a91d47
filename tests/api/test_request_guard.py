"""The root app refuses hostile JSON bodies on the API before anything parses them: too deeply
nested (a parser's recursion limit would make it a 500 with a traceback) or too large."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.api

PATHS = [
    "/api/v2.0/projects",
    "/api/v2.0/users",
    "/api/v2.0/labels",
    "/service/token",
    "/api/v2.0/robots",
]


def _log_size(server) -> int:
    return server.log_path.stat().st_size


def _log_since(server, offset: int) -> str:
    with open(server.log_path, "rb") as fh:
        fh.seek(offset)
        return fh.read().decode(errors="replace")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"a":' * 50_000, b"[" * 65 + b"]" * 65])
def test_deeply_nested_json_is_a_400_without_traceback(
    server, anon_client, admin_client, path, body
):
    offset = _log_size(server)
    for client in (anon_client, admin_client):
        r = client.post(
            f"{server.url}{path}", data=body, headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 400, r.text
        assert r.headers["Content-Type"] == "application/json"
        error = r.json()["errors"][0]
        assert error["code"] == "BAD_REQUEST" and "nested" in error["message"]
    log = _log_since(server, offset)
    assert "Traceback" not in log and "RecursionError" not in log


def test_nesting_within_the_limit_is_parsed_as_usual(admin_client):
    body = b'{"project_name": "x", "metadata": ' + b"[" * 60 + b"]" * 60 + b"}"
    r = admin_client.post("/projects", data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400  # a schema error (metadata is an object), not the guard
    assert "nested" not in r.json()["errors"][0]["message"]


def test_brackets_inside_strings_do_not_count(admin_client):
    text = "[" * 200 + '\\"{' * 100
    r = admin_client.post(
        "/labels", json={"name": "x", "scope": "g", "description": text, "color": "#zzz"}
    )
    assert r.status_code == 400  # the bad color, not the nesting
    assert "color" in r.json()["errors"][0]["message"]


def test_oversized_json_body_is_a_413(server, admin_client):
    offset = _log_size(server)
    body = b'{"project_name": "' + b"a" * (5 * 1024 * 1024) + b'"}'
    r = admin_client.post("/projects", data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 413, r.text
    assert r.json()["errors"][0]["code"] == "PAYLOAD_TOO_LARGE"
    assert "Traceback" not in _log_since(server, offset)
