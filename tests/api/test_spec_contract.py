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
