"""The server accepts what openapi/swagger.yaml declares, answers the same on both backends,
and names the allowed methods on a 405."""

import pytest

pytestmark = pytest.mark.api


@pytest.mark.parametrize(("path", "method", "allow"), [
    ("/projects", "PATCH", "GET, HEAD, POST"),
    ("/projects/1", "POST", "GET, HEAD, PUT, DELETE"),
    ("/users/current", "DELETE", "GET, HEAD"),
    ("/ping", "PUT", "GET, HEAD"),
])
def test_405_lists_the_paths_declared_methods(admin_client, path, method, allow):
    r = admin_client.request(method, path)
    assert r.status_code == 405
    assert r.headers["Allow"] == allow
    assert r.json()["errors"][0]["code"] == "METHOD_NOT_ALLOWED"


@pytest.mark.parametrize("path", ["/labels/99999999999", "/usergroups/99999999999",
                                  "/robots/99999999999", "/users/99999999999",
                                  "/labels/0", "/robots/-1"])
def test_ids_outside_the_declared_range_are_refused_alike(admin_client, path):
    r = admin_client.get(path)
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["code"] == "BAD_REQUEST"


def test_page_beyond_int64_is_refused(admin_client):
    assert admin_client.get("/projects", params={"page": 2**63 - 1}).status_code == 200
    assert admin_client.get("/projects", params={"page": 2**63}).status_code == 400


@pytest.mark.parametrize(("method", "path", "kwargs"), [
    ("GET", "/projects", {"params": {"name": "a\x00b"}}),
    ("GET", "/users/search", {"params": {"username": "\x00"}}),
    ("GET", "/projects/lib%00rary", {}),
    ("POST", "/labels", {"json": {"name": "a\x00", "scope": "g"}}),
    ("PUT", "/users/1", {"json": {"email": "x\x00@example.com"}}),
])
def test_nul_characters_are_refused_alike(admin_client, method, path, kwargs):
    r = admin_client.request(method, path, **kwargs)
    assert r.status_code == 400, r.text
    assert "NUL" in r.json()["errors"][0]["message"]
