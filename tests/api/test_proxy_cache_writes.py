"""A proxy-cache project holds what its upstream sent, nothing else: as a push there is
refused (test_proxy_cache), so are the API's writes of content, an artifact copied in and a
tag added, which would otherwise let a member plant an image under an upstream name (served
whenever the upstream is unreachable, or lacks the tag and ``proxy_cache_local_on_not_found``
is on), as in Harbor."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.conftest import unique
from tests.support.oci import OCI_MANIFEST, RegistryClient
from tests.support.registry_clients import distribution_registry

pytestmark = pytest.mark.api

DEVELOPER = 2


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    with distribution_registry(tmp_path_factory.mktemp("writes-upstream")) as server:
        yield server


@pytest.fixture
def proxy_with_developer(admin_client, upstream, new_user):
    """(proxy project, developer's API client, developer's /v2 client)."""
    r = admin_client.post(
        "/registries",
        json={"name": unique("up"), "type": "docker-registry", "url": f"http://{upstream.host}"},
    )
    assert r.status_code == 201, r.text
    registry_id = int(r.headers["Location"].rsplit("/", 1)[1])
    name = unique("mirror")
    r = admin_client.post(
        "/projects",
        json={"project_name": name, "registry_id": registry_id, "metadata": {"public": "false"}},
    )
    assert r.status_code == 201, r.text
    _, username, password, api = new_user()
    r = admin_client.post(
        f"/projects/{name}/members",
        json={"role_id": DEVELOPER, "member_user": {"username": username}},
    )
    assert r.status_code == 201, r.text
    with RegistryClient(admin_client.base_url, (username, password)) as v2:
        yield name, api, v2
    for repo in admin_client.get(f"/projects/{name}/repositories").json() or []:
        path = repo["name"].split("/", 1)[1].replace("/", "%252F")
        admin_client.delete(f"/projects/{name}/repositories/{path}")
    admin_client.delete(f"/projects/{name}", headers={"X-Is-Resource-Name": "true"})
    admin_client.delete(f"/registries/{registry_id}")


def _cached(admin_client, project: str, repo: str, tag: str) -> dict:
    deadline = time.monotonic() + 20
    path = f"/projects/{project}/repositories/{repo.replace('/', '%252F')}/artifacts/{tag}"
    while time.monotonic() < deadline:
        r = admin_client.get(path)
        if r.status_code == 200:
            return r.json()
        time.sleep(0.1)
    raise AssertionError(f"{project}/{repo}:{tag} was not cached")


def test_no_artifact_is_copied_into_a_proxy_project(
    admin_client, proxy_with_developer, pusher, project
):
    proxy, developer, _ = proxy_with_developer
    admin_client.post(
        f"/projects/{project}/members",
        json={"role_id": DEVELOPER, "member_user": {"username": developer.auth[0]}},
    )
    planted = pusher.image(f"{project}/evil", "v1")
    r = developer.post(
        f"/projects/{proxy}/repositories/lib%252Fapp/artifacts",
        params={"from": f"{project}/evil@{planted.digest}"},
    )
    assert r.status_code == 403, r.text
    assert "proxy" in r.json()["errors"][0]["message"]
    assert admin_client.get(f"/projects/{proxy}/repositories").json() == []


def test_no_tag_is_added_in_a_proxy_project(admin_client, proxy_with_developer, upstream):
    proxy, developer, v2 = proxy_with_developer
    repo = f"lib/{unique('app')}"
    origin = RegistryClient(f"http://{upstream.host}")
    pushed, _ = origin.push_image(repo, "v1", (uuid.uuid4().bytes,))
    r = v2.get(f"/v2/{proxy}/{repo}/manifests/v1", headers={"Accept": OCI_MANIFEST})
    assert r.status_code == 200, r.text
    for descriptor in [r.json()["config"], *r.json()["layers"]]:
        assert v2.get(f"/v2/{proxy}/{repo}/blobs/{descriptor['digest']}").status_code == 200
    assert _cached(admin_client, proxy, repo, "v1")["digest"] == pushed
    path = f"/projects/{proxy}/repositories/{repo.replace('/', '%252F')}/artifacts/{pushed}/tags"
    r = developer.post(path, json={"name": "latest"})
    assert r.status_code == 403, r.text
    assert "proxy" in r.json()["errors"][0]["message"]
