"""Proxy-cache projects through the API and ``/v2``: a project created with ``registry_id``
names its upstream (a CNCF Distribution here) in its summary, refuses pushes as Harbor does
(403 DENIED), and pulls fill it from the upstream."""

from __future__ import annotations

import pytest

from tests.conftest import unique
from tests.support.push import Pusher
from tests.support.registry_clients import distribution_registry

pytestmark = pytest.mark.api


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    with distribution_registry(tmp_path_factory.mktemp("proxy-upstream")) as server:
        yield server


@pytest.fixture
def proxy_project(admin_client, upstream):
    """(project name, registry id) of a fresh proxy cache of ``upstream``."""
    r = admin_client.post("/registries", json={"name": unique("up"), "type": "docker-registry",
                                               "url": f"http://{upstream.host}"})
    assert r.status_code == 201, r.text
    registry_id = int(r.headers["Location"].rsplit("/", 1)[1])
    name = unique("proxy")
    r = admin_client.post("/projects", json={"project_name": name, "registry_id": registry_id,
                                             "metadata": {"public": "false"}})
    assert r.status_code == 201, r.text
    yield name, registry_id
    admin_client.delete(f"/projects/{name}", headers={"X-Is-Resource-Name": "true"})
    admin_client.delete(f"/registries/{registry_id}")


def test_proxy_project_names_its_registry(admin_client, proxy_project, upstream):
    name, registry_id = proxy_project
    project = admin_client.get(f"/projects/{name}").json()
    assert project["registry_id"] == registry_id
    summary = admin_client.get(f"/projects/{name}/summary").json()
    assert summary["registry"]["id"] == registry_id
    assert summary["registry"]["url"] == f"http://{upstream.host}"
    assert summary["registry"]["type"] == "docker-registry"
    assert "credential" not in summary["registry"]
    r = admin_client.put(f"/projects/{name}", json={"registry_id": registry_id + 1000})
    assert r.status_code == 400, r.text
    assert admin_client.put(f"/projects/{name}", json={"registry_id": registry_id,
                                                       "metadata": {"max_upstream_conn": "2"}}
                            ).status_code == 200
    assert admin_client.get(f"/projects/{name}").json()["metadata"]["max_upstream_conn"] == "2"
    r = admin_client.delete(f"/registries/{registry_id}")
    assert r.status_code == 412 and name in r.text


def test_ordinary_project_summary_has_no_registry(admin_client, project):
    assert admin_client.get(f"/projects/{project}/summary").json()["registry"] is None


def test_proxy_project_needs_a_known_registry_and_a_system_admin(admin_client, new_user,
                                                                 proxy_project):
    r = admin_client.post("/projects", json={"project_name": unique("proxy"),
                                             "registry_id": 987654})
    assert r.status_code == 400 and "registry 987654 not found" in r.text
    _, _, _, user = new_user()
    r = user.post("/projects", json={"project_name": unique("proxy"),
                                     "registry_id": proxy_project[1]})
    assert r.status_code == 403 and "Only system admin" in r.text


def test_push_to_proxy_project_is_denied(server, proxy_project, registry_client):
    name, _ = proxy_project
    r = registry_client.post(f"/v2/{name}/app/blobs/uploads/")
    assert r.status_code == 403, r.text
    error = r.json()["errors"][0]
    assert error["code"] == "DENIED"
    assert error["message"] == f"can not push artifact to a proxy project: {name}"
    r = registry_client.put(f"/v2/{name}/app/manifests/v1", data=b"{}",
                            headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    assert r.status_code == 403 and r.json()["errors"][0]["code"] == "DENIED"
    anonymous = Pusher(server.url, auth=None)  # credentials first: 401, not 403
    assert anonymous.http.post(f"{server.url}/v2/{name}/app/blobs/uploads/").status_code == 401
