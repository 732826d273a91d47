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


@pytest.mark.parametrize("name", ["nginx", "Upper/case", "p/a..b", "p/x-"])
def test_invalid_names(registry_client, name):
    r = registry_client.get(f"/v2/{name}/tags/list")
    assert r.status_code == 400 and error_code(r) == "NAME_INVALID"


def test_push_into_missing_project_is_refused(registry_client):
    r = registry_client.post(f"/v2/{unique('noproj')}/app/blobs/uploads/")
    assert r.status_code == 404 and error_code(r) == "NAME_UNKNOWN"


@pytest.fixture
def public_project(admin_client):
    name = unique("pub")
    r = admin_client.post("/projects", json={"project_name": name,
                                             "metadata": {"public": "true"}})
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


def test_public_project_outsider_is_denied_push(server, registry_client, public_project,
                                                new_user):
    name = f"{public_project}/app"
    registry_client.push_image(name, "v1")
    _, username, password, _ = new_user()
    outsider = RegistryClient(server.url, (username, password))
    assert outsider.get(f"/v2/{name}/manifests/v1").status_code == 200
    r = outsider.post(f"/v2/{name}/blobs/uploads/")
    assert r.status_code == 403 and error_code(r) == "DENIED"


def test_developer_member_pushes_and_pulls(server, admin_client, project, new_user):
    _, username, password, _ = new_user()
    r = admin_client.post(f"/projects/{project}/members",
                          headers={"X-Is-Resource-Name": "true"},
                          json={"role_id": 2, "member_user": {"username": username}})
    assert r.status_code == 201, r.text
    member = RegistryClient(server.url, (username, password))
    digest, _ = member.push_image(f"{project}/dev", "v1")
    assert member.get(f"/v2/{project}/dev/manifests/{digest}").status_code == 200
    r = member.delete(f"/v2/{project}/dev/manifests/{digest}")
    assert r.status_code == 403 and error_code(r) == "DENIED"  # developers cannot delete
