"""No path links into a caller's repository a blob they have not uploaded and may not pull:
mount, manifest PUT and artifact copy, tried by a user against a private project they cannot
see (the retried finish is in test_v2_uploads.py)."""

import pytest

from tests.conftest import unique
from tests.support.clients import ApiClient
from tests.support.oci import OCI_MANIFEST, RegistryClient, canonical, descriptor, sha256
from tests.support.tokens import bearer, claims_of, token_for

pytestmark = pytest.mark.api

SECRET = b"the private layer of project A" * 100


def error_code(response) -> str:
    return response.json()["errors"][0]["code"]


@pytest.fixture
def intruder(server, new_user):
    """(registry client, API client, credentials, own project) of a user who created a
    project of their own and is no member of the victim's."""
    _, username, password, _ = new_user()
    own = unique("own")
    with (
        ApiClient(server.url, (username, password)) as api,
        RegistryClient(server.url, (username, password)) as registry,
    ):
        r = api.post("/projects", json={"project_name": own, "metadata": {"public": "false"}})
        assert r.status_code == 201, r.text
        yield registry, api, (username, password), own
        api.delete(f"/projects/{own}", headers={"X-Is-Resource-Name": "true"})


@pytest.fixture
def victim(registry_client, repo):
    """A private repository with an image: (name, manifest digest, layer digest)."""
    digest, _ = registry_client.push_image(repo, "v1", layers=(SECRET,))
    return repo, digest, sha256(SECRET)


def _not_linked(registry, name: str, digest: str) -> None:
    r = registry.head(f"/v2/{name}/blobs/{digest}")
    assert r.status_code == 404, r.status_code


def test_mount_from_an_invisible_project_with_basic_is_a_fresh_session(intruder, victim):
    registry, _, _, own = intruder
    source, _, layer = victim
    r = registry.post(f"/v2/{own}/loot/blobs/uploads/", params={"mount": layer, "from": source})
    assert r.status_code == 202, r.text
    assert "/blobs/uploads/" in r.headers["Location"]
    _not_linked(registry, f"{own}/loot", layer)


def test_mount_from_an_invisible_project_with_a_token_is_a_fresh_session(server, intruder, victim):
    _, _, credentials, own = intruder
    source, _, layer = victim
    target = f"{own}/loot"
    token = token_for(
        server.url, f"repository:{target}:pull,push", f"repository:{source}:pull", auth=credentials
    )
    granted = {a["name"] for a in claims_of(token)["access"]}
    assert granted == {target}  # nothing for the invisible source
    with RegistryClient(server.url) as tokened:
        tokened.headers.update(bearer(token))
        r = tokened.post(f"/v2/{target}/blobs/uploads/", params={"mount": layer, "from": source})
        assert r.status_code == 202, r.text
        assert tokened.head(f"/v2/{target}/blobs/{layer}").status_code == 404


def test_manifest_referencing_another_projects_blob_is_refused(intruder, victim):
    registry, _, _, own = intruder
    _, _, layer = victim
    target = f"{own}/loot"
    config = registry.push_blob(target, b"{}")
    manifest = canonical(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config,
                "size": 2,
            },
            "layers": [descriptor("application/vnd.oci.image.layer.v1.tar", SECRET)],
        }
    )
    r = registry.push_manifest(target, "v1", manifest)
    assert r.status_code == 404 and error_code(r) == "MANIFEST_BLOB_UNKNOWN", r.text
    assert r.json()["errors"][0]["detail"]["digest"] == layer
    _not_linked(registry, target, layer)


def test_copy_from_an_invisible_project_is_not_found(intruder, victim):
    registry, api, _, own = intruder
    source, digest, layer = victim
    for reference in (f"{source}:v1", f"{source}@{digest}"):
        r = api.post(f"/projects/{own}/repositories/loot/artifacts", params={"from": reference})
        assert r.status_code == 404, r.text
    _not_linked(registry, f"{own}/loot", layer)
    assert registry.get(f"/v2/{own}/loot/manifests/{digest}").status_code == 404


def test_copy_links_only_blobs_the_source_repository_holds(admin_client, registry_client, project):
    """An artifact copy links the blobs its manifest names only where the source
    repository still holds them: a layer deleted from the source (no longer pullable
    there) does not reappear in the target through the copy."""
    source, target = f"{project}/src", f"{project}/dst"
    digest, _ = registry_client.push_image(source, "v1", layers=(SECRET, b"kept layer"))
    gone = registry_client.delete(f"/v2/{source}/blobs/{sha256(SECRET)}")
    assert gone.status_code == 202, gone.text
    r = admin_client.post(
        f"/projects/{project}/repositories/dst/artifacts", params={"from": f"{source}@{digest}"}
    )
    assert r.status_code == 201, r.text
    assert registry_client.head(f"/v2/{target}/blobs/{sha256(b'kept layer')}").status_code == 200
    _not_linked(registry_client, target, sha256(SECRET))
