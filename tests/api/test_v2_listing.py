"""tags/list and _catalog with n/last pagination and Link; the referrers API."""

import pytest

from tests.support.oci import (
    OCI_INDEX,
    OCI_MANIFEST,
    RegistryClient,
    canonical,
    descriptor,
    sha256,
)

pytestmark = pytest.mark.api


def error_code(response) -> str:
    return response.json()["errors"][0]["code"]


def _tag_all(client, repo, tags):
    digest, body = client.push_image(repo, tags[0])
    for tag in tags[1:]:
        assert client.push_manifest(repo, tag, body).status_code == 201
    return digest


def test_tags_list_and_pagination(registry_client, repo):
    _tag_all(registry_client, repo, ["v2", "v10", "latest", "v1"])
    r = registry_client.get(f"/v2/{repo}/tags/list")
    assert r.status_code == 200
    assert r.json() == {"name": repo, "tags": ["latest", "v1", "v10", "v2"]}
    assert "Link" not in r.headers
    page = registry_client.get(f"/v2/{repo}/tags/list", params={"n": 2})
    assert page.json()["tags"] == ["latest", "v1"]
    assert page.headers["Link"] == f'</v2/{repo}/tags/list?n=2&last=v1>; rel="next"'
    following = registry_client.get(page.links["next"]["url"])
    assert following.json()["tags"] == ["v10", "v2"] and "Link" not in following.headers
    assert registry_client.get(f"/v2/{repo}/tags/list", params={"n": 10, "last": "v10"}).json()[
        "tags"
    ] == ["v2"]
    assert registry_client.get(f"/v2/{repo}/tags/list", params={"n": 0}).json()["tags"] == []
    assert registry_client.get(f"/v2/{repo}/tags/list", params={"n": "x"}).status_code == 400
    huge = registry_client.get(f"/v2/{repo}/tags/list", params={"n": 10**20})
    assert huge.status_code == 200 and len(huge.json()["tags"]) == 4


def test_tags_of_unknown_repository(registry_client, project):
    r = registry_client.get(f"/v2/{project}/nothing/tags/list")
    assert r.status_code == 404 and error_code(r) == "NAME_UNKNOWN"


def test_catalog_pagination_and_visibility(server, registry_client, project, new_user):
    names = sorted(f"{project}/{n}" for n in ("alpha", "beta", "gamma"))
    for name in names:
        registry_client.push_image(name, "v1")
    everything = registry_client.get("/v2/_catalog").json()["repositories"]
    assert [n for n in everything if n.startswith(f"{project}/")] == names
    page = registry_client.get("/v2/_catalog", params={"n": 2, "last": names[0][:-1]})
    assert page.json()["repositories"] == names[:2]
    assert page.headers["Link"].endswith('>; rel="next"')
    rest = registry_client.get(page.links["next"]["url"]).json()["repositories"]
    assert rest[0] == names[2]
    _, username, password, _ = new_user()
    outsider = RegistryClient(server.url, (username, password))
    refused = outsider.get("/v2/_catalog")  # as Harbor: system administrators only
    assert refused.status_code == 401 and error_code(refused) == "UNAUTHORIZED"
    assert refused.json()["errors"][0]["message"] == "unauthorized to list catalog"
    assert RegistryClient(server.url).get("/v2/_catalog").status_code == 401


def test_filtered_catalog_setting_lists_what_each_caller_sees(tmp_path):
    """``filtered_catalog: true``: every signed-in caller gets the catalog (Basic, or a
    token the service now grants the scope to), filtered to the projects they can see;
    anonymous callers still get 401."""
    from tests.support.clients import ApiClient
    from tests.support.servers import ADMIN_PASSWORD, running_server
    from tests.support.tokens import bearer, claims_of, token_for

    with (
        running_server(tmp_path, extra_env={"HARBOR_FILTERED_CATALOG": "true"}) as srv,
        ApiClient(srv.url, ("admin", ADMIN_PASSWORD)) as admin,
        RegistryClient(srv.url, ("admin", ADMIN_PASSWORD)) as registry,
    ):
        for project in ("hidden", "shown"):
            assert (
                admin.post(
                    "/projects", json={"project_name": project, "metadata": {"public": "false"}}
                ).status_code
                == 201
            )
            registry.push_image(f"{project}/app", "v1")
        assert (
            admin.post(
                "/users",
                json={
                    "username": "viewer",
                    "email": "v@example.com",
                    "realname": "v",
                    "password": "Passw0rd!x",
                },
            ).status_code
            == 201
        )
        assert (
            admin.post(
                "/projects/shown/members",
                json={"role_id": 3, "member_user": {"username": "viewer"}},
            ).status_code
            == 201
        )
        viewer = RegistryClient(srv.url, ("viewer", "Passw0rd!x"))
        listed = viewer.get("/v2/_catalog")
        assert listed.status_code == 200 and listed.json()["repositories"] == ["shown/app"]
        token = token_for(srv.url, "registry:catalog:*", auth=("viewer", "Passw0rd!x"))
        assert claims_of(token)["access"][0]["name"] == "catalog"
        with RegistryClient(srv.url) as tokened:
            tokened.headers.update(bearer(token))
            assert tokened.get("/v2/_catalog").json()["repositories"] == ["shown/app"]
        assert registry.get("/v2/_catalog").json()["repositories"] == ["hidden/app", "shown/app"]
        assert RegistryClient(srv.url).get("/v2/_catalog").status_code == 401


def _artifact(client, repo, subject_body, artifact_type, annotations=None):
    empty = client.push_blob(repo, b"{}")
    body = canonical(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": artifact_type,
            "config": {
                "mediaType": "application/vnd.oci.empty.v1+json",
                "digest": empty,
                "size": 2,
            },
            "layers": [],
            "subject": descriptor(OCI_MANIFEST, subject_body),
            **({"annotations": annotations} if annotations else {}),
        }
    )
    r = client.push_manifest(repo, sha256(body), body)
    assert r.status_code == 201, r.text
    return sha256(body), body


def test_referrers(registry_client, repo):
    subject, subject_body = registry_client.push_image(repo, "v1")
    sbom, sbom_body = _artifact(
        registry_client, repo, subject_body, "application/x.sbom", {"org.example.kind": "sbom"}
    )
    sig, _ = _artifact(registry_client, repo, subject_body, "application/x.signature")
    r = registry_client.get(f"/v2/{repo}/referrers/{subject}")
    assert r.status_code == 200 and r.headers["Content-Type"] == OCI_INDEX
    index = r.json()
    assert index["schemaVersion"] == 2 and index["mediaType"] == OCI_INDEX
    found = {d["digest"]: d for d in index["manifests"]}
    assert set(found) == {sbom, sig}
    assert found[sbom] == {
        "mediaType": OCI_MANIFEST,
        "digest": sbom,
        "size": len(sbom_body),
        "artifactType": "application/x.sbom",
        "annotations": {"org.example.kind": "sbom"},
    }
    assert "OCI-Filters-Applied" not in r.headers
    filtered = registry_client.get(
        f"/v2/{repo}/referrers/{subject}", params={"artifactType": "application/x.signature"}
    )
    assert filtered.headers["OCI-Filters-Applied"] == "artifactType"
    assert [d["digest"] for d in filtered.json()["manifests"]] == [sig]
    none = registry_client.get(f"/v2/{repo}/referrers/{sha256(b'no subject')}")
    assert none.status_code == 200 and none.json()["manifests"] == []
    r = registry_client.get(f"/v2/{repo}/referrers/sha256:nothex")
    assert r.status_code == 400 and error_code(r) == "DIGEST_INVALID"


def test_referrers_are_private_too(server, registry_client, repo):
    subject, _ = registry_client.push_image(repo, "v1")
    r = RegistryClient(server.url).get(f"/v2/{repo}/referrers/{subject}")
    assert r.status_code == 401
