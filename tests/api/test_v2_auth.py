"""/v2 base route, credentials and authorisation (Basic users, anonymous, public/private)."""

import pytest

from tests.conftest import unique
from tests.support.oci import RegistryClient, sha256

pytestmark = pytest.mark.api

API_VERSION = "registry/2.0"


def error_code(response) -> str:
    return response.json()["errors"][0]["code"]


def test_base_route(server, registry_client):
    anon = RegistryClient(server.url).get("/v2/")
    assert anon.status_code == 401 and error_code(anon) == "UNAUTHORIZED"
    assert anon.headers["WWW-Authenticate"].startswith(("Basic ", "Bearer "))
    assert anon.headers["Docker-Distribution-API-Version"] == API_VERSION
    ok = registry_client.get("/v2/")
    assert ok.status_code == 200 and ok.headers["Docker-Distribution-API-Version"] == API_VERSION
    assert ok.json() == {}
    assert registry_client.get("/v2").status_code == 200


def test_bad_credentials_are_refused(server):
    r = RegistryClient(server.url, ("admin", "wrong")).get("/v2/library/x/tags/list")
    assert r.status_code == 401 and "WWW-Authenticate" in r.headers


def test_unknown_endpoint_and_method(registry_client, repo):
    assert registry_client.get(f"/v2/{repo}/nothing").status_code == 404
    r = registry_client.post(f"/v2/{repo}/tags/list")
    assert r.status_code == 405
    assert r.headers["Allow"] == "GET"  # RFC 9110: a 405 names what the route answers
    r = registry_client.put("/v2/")
    assert r.status_code == 405 and r.headers["Allow"] == "GET, HEAD"


@pytest.mark.parametrize("name", ["nginx", "Upper/case", "p/a..b", "p/x-"])
def test_invalid_names(registry_client, name):
    r = registry_client.get(f"/v2/{name}/tags/list")
    assert r.status_code == 400 and error_code(r) == "NAME_INVALID"


def test_push_into_missing_project_is_refused(registry_client):
    missing = unique("noproj")
    r = registry_client.post(f"/v2/{missing}/app/blobs/uploads/")
    assert r.status_code == 404 and error_code(r) == "NAME_UNKNOWN"
    assert r.json()["errors"][0]["message"] == f"project {missing} not found"  # as Harbor


@pytest.fixture
def public_project(admin_client):
    name = unique("pub")
    r = admin_client.post("/projects", json={"project_name": name, "metadata": {"public": "true"}})
    assert r.status_code == 201, r.text
    yield name
    admin_client.delete(f"/projects/{name}", headers={"X-Is-Resource-Name": "true"})


def test_anonymous_pulls_public_but_cannot_push(server, registry_client, public_project):
    name = f"{public_project}/team/app"  # multi-level repository name
    digest, manifest = registry_client.push_image(name, "v1", layers=(b"public layer",))
    anon = RegistryClient(server.url)
    r = anon.get(f"/v2/{name}/manifests/v1")
    assert r.status_code == 200 and r.content == manifest
    assert anon.get(f"/v2/{name}/blobs/{sha256(b'public layer')}").content == b"public layer"
    assert anon.get(f"/v2/{name}/tags/list").json()["tags"] == ["v1"]
    push = anon.post(f"/v2/{name}/blobs/uploads/")
    assert push.status_code == 401 and push.headers["WWW-Authenticate"]
    assert anon.delete(f"/v2/{name}/manifests/{digest}").status_code == 401


def test_private_project_is_invisible(server, registry_client, repo, new_user):
    registry_client.push_image(repo, "v1")
    anon = RegistryClient(server.url)
    r = anon.get(f"/v2/{repo}/manifests/v1")
    assert r.status_code == 401 and error_code(r) == "UNAUTHORIZED"
    _, username, password, _ = new_user()
    outsider = RegistryClient(server.url, (username, password))
    assert outsider.get("/v2/").status_code == 200
    r = outsider.get(f"/v2/{repo}/manifests/v1")
    assert r.status_code == 404 and error_code(r) == "NAME_UNKNOWN"
    r = outsider.post(f"/v2/{repo}/blobs/uploads/")
    assert r.status_code == 404 and error_code(r) == "NAME_UNKNOWN"


def test_public_project_outsider_is_denied_push(server, registry_client, public_project, new_user):
    name = f"{public_project}/app"
    registry_client.push_image(name, "v1")
    _, username, password, _ = new_user()
    outsider = RegistryClient(server.url, (username, password))
    assert outsider.get(f"/v2/{name}/manifests/v1").status_code == 200
    r = outsider.post(f"/v2/{name}/blobs/uploads/")  # Harbor's answer and wording
    assert r.status_code == 401 and error_code(r) == "UNAUTHORIZED"
    assert r.json()["errors"][0]["message"] == (
        f"unauthorized to access repository: {name}, action: push"
    )
    assert r.headers["WWW-Authenticate"]


def test_developer_member_pushes_and_pulls(server, admin_client, project, new_user):
    _, username, password, _ = new_user()
    r = admin_client.post(
        f"/projects/{project}/members",
        headers={"X-Is-Resource-Name": "true"},
        json={"role_id": 2, "member_user": {"username": username}},
    )
    assert r.status_code == 201, r.text
    member = RegistryClient(server.url, (username, password))
    digest, _ = member.push_image(f"{project}/dev", "v1")
    assert member.get(f"/v2/{project}/dev/manifests/{digest}").status_code == 200
    r = member.delete(f"/v2/{project}/dev/manifests/{digest}")
    assert r.status_code == 401 and error_code(r) == "UNAUTHORIZED"  # developers cannot delete
    assert r.json()["errors"][0]["message"].endswith("action: delete")


def test_manifest_put_authorises_before_reading_the_body(server, repo):
    """An anonymous PUT of a manifest is refused 401 (so clients log in), whatever its body;
    the body is not parsed first (it used to answer 400 MANIFEST_INVALID)."""
    anon = RegistryClient(server.url)
    r = anon.put(
        f"/v2/{repo}/manifests/v1",
        data=b"not a manifest",
        headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
    )
    assert r.status_code == 401 and error_code(r) == "UNAUTHORIZED", r.text
    assert r.headers["WWW-Authenticate"]


def _refused_without_reading(server, method: str, path: str, auth: str | None) -> str:
    """Send only the headers of a write (``Expect: 100-continue``, a declared body) and
    return the status line: a server that authorises first answers without asking for the
    body; one that reads first sends ``100 Continue`` and waits."""
    import base64
    import socket
    from urllib.parse import urlsplit

    url = urlsplit(server.url)
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {url.netloc}",
        "Content-Length: 1000",
        "Content-Type: application/octet-stream",
        "Expect: 100-continue",
    ]
    if auth:
        lines.append("Authorization: Basic " + base64.b64encode(auth.encode()).decode())
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        sock.settimeout(15)
        try:
            return sock.recv(4096).decode("latin-1").split("\r\n", 1)[0]
        except TimeoutError:
            return "no answer"


@pytest.mark.parametrize("write", ["manifest", "patch"])
def test_writes_are_authorised_before_the_body_is_read(
    server, registry_client, repo, new_user, write
):
    location = registry_client.start_upload(repo)
    path = f"/v2/{repo}/manifests/v1" if write == "manifest" else location.split(server.url, 1)[-1]
    _, username, password, _ = new_user()
    for auth in (None, f"{username}:{password}"):  # anonymous, then a signed-in outsider
        status = _refused_without_reading(
            server, "PUT" if write == "manifest" else "PATCH", path, auth
        )
        assert status.split(" ")[1:2] in (["401"], ["404"]), status
