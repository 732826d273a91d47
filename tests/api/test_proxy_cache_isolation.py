"""A proxy-cache project serves what its upstream has, never another project's content: a
pull by digest through a proxy project the caller may read must not hand out a manifest or
blob that exists on this server only in a project the caller cannot read (the storage is
shared, content-addressed; the authorisation is per project)."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import unique
from tests.support.oci import OCI_MANIFEST, RegistryClient
from tests.support.oci import sha256 as digest_of
from tests.support.registry_clients import distribution_registry

pytestmark = pytest.mark.api


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    with distribution_registry(tmp_path_factory.mktemp("isolation-upstream")) as server:
        yield server


@pytest.fixture
def public_proxy(admin_client, upstream):
    """A public proxy cache of an empty upstream (what a mirror of Docker Hub looks like)."""
    r = admin_client.post(
        "/registries",
        json={"name": unique("up"), "type": "docker-registry", "url": f"http://{upstream.host}"},
    )
    assert r.status_code == 201, r.text
    registry_id = int(r.headers["Location"].rsplit("/", 1)[1])
    name = unique("mirror")
    r = admin_client.post(
        "/projects",
        json={"project_name": name, "registry_id": registry_id, "metadata": {"public": "true"}},
    )
    assert r.status_code == 201, r.text
    yield name
    admin_client.delete(f"/projects/{name}", headers={"X-Is-Resource-Name": "true"})
    admin_client.delete(f"/registries/{registry_id}")


def test_private_content_is_not_pulled_by_digest_through_a_proxy_project(
    server, pusher, repo, public_proxy, new_user
):
    pushed = pusher.image(repo, "secret")
    manifest = pusher.http.get(
        f"{server.url}/v2/{repo}/manifests/{pushed.digest}", headers={"Accept": OCI_MANIFEST}
    ).json()
    layer = manifest["layers"][0]["digest"]
    _, username, password, _ = new_user()
    with RegistryClient(server.url, (username, password)) as outsider:
        assert outsider.get(f"/v2/{repo}/manifests/{pushed.digest}").status_code == 404
        via_proxy = f"/v2/{public_proxy}/anything"
        r = outsider.get(f"{via_proxy}/manifests/{pushed.digest}", headers={"Accept": OCI_MANIFEST})
        assert r.status_code == 404, r.text
        for digest in (pushed.config_digest, layer):
            assert outsider.head(f"{via_proxy}/blobs/{digest}").status_code == 404
            r = outsider.get(f"{via_proxy}/blobs/{digest}")
            assert r.status_code == 404, (digest, r.status_code, r.content[:200])


def test_a_blob_another_repository_of_the_proxy_holds_is_served_offline(
    server, public_proxy, upstream, registry_client
):
    """Content already cached in the same proxy project needs no upstream confirmation."""
    origin = RegistryClient(f"http://{upstream.host}")
    layer = uuid.uuid4().bytes * 16
    origin.push_image("lib/first", "v1", (layer,))
    r = registry_client.get(f"/v2/{public_proxy}/lib/first/manifests/v1")
    assert r.status_code == 200, r.text
    assert registry_client.get(
        f"/v2/{public_proxy}/lib/first/blobs/{digest_of(layer)}"
    ).content == (layer)
    upstream.stop()
    try:
        r = registry_client.get(f"/v2/{public_proxy}/lib/second/blobs/{digest_of(layer)}")
        assert r.status_code == 200 and r.content == layer
    finally:
        upstream.start()
