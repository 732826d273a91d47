"""The server accepts what openapi/swagger.yaml declares, answers the same on both backends,
and names the allowed methods on a 405."""

import pytest

pytestmark = pytest.mark.api


@pytest.mark.parametrize(
    ("path", "method", "allow"),
    [
        ("/projects", "PATCH", "GET, HEAD, POST"),
        ("/projects/1", "POST", "GET, HEAD, PUT, DELETE"),
        ("/users/current", "DELETE", "GET, HEAD"),
        ("/ping", "PUT", "GET, HEAD"),
    ],
)
def test_405_lists_the_paths_declared_methods(admin_client, path, method, allow):
    r = admin_client.request(method, path)
    assert r.status_code == 405
    assert r.headers["Allow"] == allow
    assert r.json()["errors"][0]["code"] == "METHOD_NOT_ALLOWED"


ID_PATHS = [
    "/labels/{}",
    "/usergroups/{}",
    "/robots/{}",
    "/users/{}",
    "/projects/1/members/{}",
    "/users/{}/password",
]


@pytest.mark.parametrize("path", ID_PATHS)
def test_ids_beyond_the_id_columns_are_not_found_alike(admin_client, path):
    """Declared int64 (as Harbor does); the columns are int4: nothing has such an id."""
    for value in (2**31, 99999999999, 2**63 - 1):
        method = "PUT" if path.endswith("/password") else "GET"
        r = admin_client.request(method, path.format(value), json={"new_password": "Passw0rdX"})
        assert r.status_code == 404, (value, r.text)
        assert r.json()["errors"][0]["code"] == "NOT_FOUND"


@pytest.mark.parametrize("path", ID_PATHS)
def test_ids_outside_int64_or_below_1_are_refused_alike(admin_client, path):
    for value in (0, -1, 2**63):
        method = "PUT" if path.endswith("/password") else "GET"
        r = admin_client.request(method, path.format(value), json={"new_password": "Passw0rdX"})
        assert r.status_code == 400, (value, r.text)
        assert r.json()["errors"][0]["code"] == "BAD_REQUEST"


def test_page_beyond_int64_is_refused(admin_client):
    assert admin_client.get("/projects", params={"page": 2**63 - 1}).status_code == 200
    assert admin_client.get("/projects", params={"page": 2**63}).status_code == 400


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/projects", {"params": {"name": "a\x00b"}}),
        ("GET", "/users/search", {"params": {"username": "\x00"}}),
        ("GET", "/projects/lib%00rary", {}),
        ("POST", "/labels", {"json": {"name": "a\x00", "scope": "g"}}),
        ("PUT", "/users/1", {"json": {"email": "x\x00@example.com"}}),
    ],
)
def test_nul_characters_are_refused_alike(admin_client, method, path, kwargs):
    r = admin_client.request(method, path, **kwargs)
    assert r.status_code == 400, r.text
    assert "NUL" in r.json()["errors"][0]["message"]
