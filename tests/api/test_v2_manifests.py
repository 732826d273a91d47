"""Manifests: OCI and Docker types, by tag and digest, negotiation, validation, deletion."""

import json
import time

import pytest

from tests.support.oci import (
    DOCKER_CONFIG,
    DOCKER_LAYER,
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    canonical,
    descriptor,
    sha256,
    sha512,
)

pytestmark = pytest.mark.api


def error_code(response) -> str:
    return response.json()["errors"][0]["code"]


def test_push_and_pull_by_tag_and_digest(registry_client, repo):
    digest, manifest = registry_client.push_image(repo, "v1", layers=(b"a", b"b"))
    for reference in ("v1", digest):
        r = registry_client.get(
            f"/v2/{repo}/manifests/{reference}", headers={"Accept": OCI_MANIFEST}
        )
        assert r.status_code == 200 and r.content == manifest
        assert r.headers["Content-Type"] == OCI_MANIFEST
        assert r.headers["Docker-Content-Digest"] == digest
        head = registry_client.head(f"/v2/{repo}/manifests/{reference}")
        assert head.status_code == 200 and head.content == b""
        assert head.headers["Content-Length"] == str(len(manifest))
        assert head.headers["Docker-Content-Digest"] == digest
    # a manifest is a blob too
    assert registry_client.get(f"/v2/{repo}/blobs/{digest}").content == manifest


def test_put_response_headers_and_push_by_digest(registry_client, repo):
    registry_client.push_image(repo, "seed")
    config = registry_client.push_blob(repo, b"{}")
    manifest = canonical(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config,
                "size": 2,
            },
            "layers": [],
        }
    )
    digest = sha256(manifest)
    r = registry_client.push_manifest(repo, digest, manifest)
    assert r.status_code == 201, r.text
    assert r.headers["Location"].endswith(f"/v2/{repo}/manifests/{digest}")
    assert r.headers["Docker-Content-Digest"] == digest
    r = registry_client.push_manifest(repo, sha256(b"other"), manifest)
    assert r.status_code == 400 and error_code(r) == "DIGEST_INVALID"
    by512 = sha512(manifest)
    r = registry_client.push_manifest(repo, by512, manifest)
    assert r.status_code == 201 and r.headers["Docker-Content-Digest"] == by512
    assert registry_client.get(f"/v2/{repo}/manifests/{by512}").content == manifest


def test_docker_schema2_and_manifest_list(registry_client, repo):
    config, layer = b'{"architecture":"amd64","os":"linux"}', b"docker layer"
    registry_client.push_blob(repo, config)
    registry_client.push_blob(repo, layer)
    manifest = canonical(
        {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST,
            "config": descriptor(DOCKER_CONFIG, config),
            "layers": [descriptor(DOCKER_LAYER, layer)],
        }
    )
    r = registry_client.push_manifest(repo, "docker", manifest, DOCKER_MANIFEST)
    assert r.status_code == 201, r.text
    r = registry_client.get(f"/v2/{repo}/manifests/docker", headers={"Accept": DOCKER_MANIFEST})
    assert r.headers["Content-Type"] == DOCKER_MANIFEST and r.content == manifest
    listing = canonical(
        {
            "schemaVersion": 2,
            "mediaType": DOCKER_LIST,
            "manifests": [
                descriptor(
                    DOCKER_MANIFEST, manifest, platform={"architecture": "amd64", "os": "linux"}
                )
            ],
        }
    )
    r = registry_client.push_manifest(repo, "list", listing, DOCKER_LIST)
    assert r.status_code == 201, r.text
    r = registry_client.get(f"/v2/{repo}/manifests/list", headers={"Accept": DOCKER_LIST})
    assert r.headers["Content-Type"] == DOCKER_LIST and r.content == listing


def test_index_with_children(registry_client, repo):
    amd, amd_body = registry_client.push_image(repo, amd_tag := "amd64", layers=(b"amd",))
    arm, arm_body = registry_client.push_image(repo, "arm64", layers=(b"arm",))
    index = canonical(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                descriptor(
                    OCI_MANIFEST, amd_body, platform={"architecture": "amd64", "os": "linux"}
                ),
                descriptor(
                    OCI_MANIFEST, arm_body, platform={"architecture": "arm64", "os": "linux"}
                ),
            ],
        }
    )
    r = registry_client.push_manifest(repo, "multi", index, OCI_INDEX)
    assert r.status_code == 201, r.text
    r = registry_client.get(f"/v2/{repo}/manifests/multi", headers={"Accept": OCI_INDEX})
    assert r.content == index and r.headers["Content-Type"] == OCI_INDEX
    assert amd_tag == "amd64" and {amd, arm} == {d["digest"] for d in r.json()["manifests"]}
    missing = canonical(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {"mediaType": OCI_MANIFEST, "digest": sha256(b"no such manifest"), "size": 10}
            ],
        }
    )
    r = registry_client.push_manifest(repo, "broken", missing, OCI_INDEX)
    assert r.status_code == 404 and error_code(r) == "MANIFEST_BLOB_UNKNOWN"


def test_referenced_blobs_must_exist_in_the_repository(registry_client, project):
    registry_client.push_image(f"{project}/other", "v1", layers=(b"elsewhere",))
    config = registry_client.push_blob(f"{project}/here", b"{}")
    manifest = canonical(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config,
                "size": 2,
            },
            "layers": [descriptor("application/vnd.oci.image.layer.v1.tar", b"elsewhere")],
        }
    )
    r = registry_client.push_manifest(f"{project}/here", "v1", manifest)
    assert r.status_code == 404 and error_code(r) == "MANIFEST_BLOB_UNKNOWN"
    assert r.json()["errors"][0]["detail"]["digest"] == sha256(b"elsewhere")


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"{not json", OCI_MANIFEST),
        (b'{"schemaVersion": 1}', OCI_MANIFEST),
        (
            b'{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json"}',
            OCI_MANIFEST,
        ),
        (
            b'{"schemaVersion": 2, "config": {"mediaType": "x", "digest": "sha256:12", "size": 1}}',
            OCI_MANIFEST,
        ),
    ],
)
def test_malformed_manifests(registry_client, repo, body, content_type):
    registry_client.push_image(repo, "seed")
    r = registry_client.push_manifest(repo, "bad", body, content_type)
    assert r.status_code == 400 and error_code(r) == "MANIFEST_INVALID"


def test_oversized_manifest(registry_client, repo):
    registry_client.push_image(repo, "seed")
    filler = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "annotations": {"pad": "x" * (4 * 1024 * 1024 + 10)},
    }
    r = registry_client.push_manifest(repo, "huge", json.dumps(filler).encode())
    assert r.status_code == 413 and error_code(r) == "SIZE_INVALID"


def test_unknown_and_invalid_references(registry_client, repo):
    registry_client.push_image(repo, "v1")
    r = registry_client.get(f"/v2/{repo}/manifests/nope")
    assert r.status_code == 404 and error_code(r) == "MANIFEST_UNKNOWN"
    assert registry_client.head(f"/v2/{repo}/manifests/{sha256(b'x')}").status_code == 404
    # neither a tag nor a digest: unknown on GET/HEAD (the OCI pull workflow expects 404,
    # e.g. the conformance suite's ".INVALID_MANIFEST_NAME"), invalid on PUT
    for bad in ("-bad-tag", ".INVALID_MANIFEST_NAME", "sha256:123", "x" * 200):
        r = registry_client.get(f"/v2/{repo}/manifests/{bad}")
        assert r.status_code == 404 and error_code(r) == "MANIFEST_UNKNOWN", bad
        assert registry_client.head(f"/v2/{repo}/manifests/{bad}").status_code == 404
    _, manifest = registry_client.push_image(repo, "v2")
    r = registry_client.push_manifest(repo, "-bad-tag", manifest)
    assert r.status_code == 400 and error_code(r) in (
        "TAG_INVALID",
        "MANIFEST_INVALID",
        "NAME_INVALID",
    )
    r = registry_client.push_manifest(repo, "sha256:123", manifest)
    assert r.status_code == 400 and error_code(r) == "DIGEST_INVALID"


def test_accept_negotiation(registry_client, repo):
    digest, _ = registry_client.push_image(repo, "v1")
    r = registry_client.get(f"/v2/{repo}/manifests/v1", headers={"Accept": DOCKER_MANIFEST})
    assert r.status_code == 404 and error_code(r) == "MANIFEST_UNKNOWN"
    for accept in (f"{DOCKER_MANIFEST}, {OCI_MANIFEST};q=0.9", "*/*"):
        assert (
            registry_client.get(f"/v2/{repo}/manifests/v1", headers={"Accept": accept}).status_code
            == 200
        )
    # content addressed: a digest is served whatever the Accept header says
    assert (
        registry_client.get(
            f"/v2/{repo}/manifests/{digest}", headers={"Accept": DOCKER_MANIFEST}
        ).status_code
        == 200
    )


def test_tag_moves_and_deletes(registry_client, repo):
    first, _ = registry_client.push_image(repo, "latest", layers=(b"one",))
    second, _ = registry_client.push_image(repo, "latest", layers=(b"two",))
    assert (
        registry_client.head(f"/v2/{repo}/manifests/latest").headers["Docker-Content-Digest"]
        == second
    )
    assert registry_client.head(f"/v2/{repo}/manifests/{first}").status_code == 200
    assert registry_client.delete(f"/v2/{repo}/manifests/latest").status_code == 202
    assert registry_client.head(f"/v2/{repo}/manifests/latest").status_code == 404
    assert registry_client.head(f"/v2/{repo}/manifests/{second}").status_code == 200
    assert registry_client.delete(f"/v2/{repo}/manifests/{second}").status_code == 202
    r = registry_client.get(f"/v2/{repo}/manifests/{second}")
    assert r.status_code == 404 and error_code(r) == "MANIFEST_UNKNOWN"
    r = registry_client.delete(f"/v2/{repo}/manifests/{second}")
    assert r.status_code == 404 and error_code(r) == "MANIFEST_UNKNOWN"


def test_subject_answers_with_oci_subject(registry_client, repo):
    subject, body = registry_client.push_image(repo, "v1")
    empty = registry_client.push_blob(repo, b"{}")
    artifact = canonical(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": "application/x.sbom",
            "config": {
                "mediaType": "application/vnd.oci.empty.v1+json",
                "digest": empty,
                "size": 2,
            },
            "layers": [],
            "subject": descriptor(OCI_MANIFEST, body),
        }
    )
    r = registry_client.push_manifest(repo, sha256(artifact), artifact)
    assert r.status_code == 201 and r.headers["OCI-Subject"] == subject
    dangling = canonical(
        {
            **json.loads(artifact),
            "subject": {"mediaType": OCI_MANIFEST, "digest": sha256(b"gone"), "size": 1},
        }
    )
    r = registry_client.push_manifest(repo, sha256(dangling), dangling)
    assert r.status_code == 201 and r.headers["OCI-Subject"] == sha256(b"gone")


def test_pulls_are_counted(registry_client, admin_client, project):
    registry_client.push_image(f"{project}/counted", "v1")
    for _ in range(2):
        assert registry_client.get(f"/v2/{project}/counted/manifests/v1").status_code == 200
    registry_client.head(f"/v2/{project}/counted/manifests/v1")  # HEAD is not a pull
    deadline = time.monotonic() + 10
    while True:
        repository = admin_client.get(f"/projects/{project}/repositories/counted").json()
        if repository["pull_count"] == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert repository["pull_count"] == 2


def test_concurrent_pushes_of_one_tag(registry_client, repo):
    from concurrent.futures import ThreadPoolExecutor

    digest, body = registry_client.push_image(repo, "seed")

    def push(_):
        return registry_client.push_manifest(repo, "same", body).status_code

    with ThreadPoolExecutor(6) as pool:
        assert set(pool.map(push, range(12))) == {201}
    assert (
        registry_client.head(f"/v2/{repo}/manifests/same").headers["Docker-Content-Digest"]
        == digest
    )


def test_push_pull_and_delete_are_audited(registry_client, admin_client, project):
    name = f"{project}/audited"
    digest, _ = registry_client.push_image(name, "v1")
    assert registry_client.get(f"/v2/{name}/manifests/v1").status_code == 200
    assert registry_client.delete(f"/v2/{name}/manifests/{digest}").status_code == 202
    wanted = {
        ("create", "artifact", f"{name}:v1"),
        ("pull", "artifact", f"{name}:v1"),
        ("delete", "artifact", f"{name}@{digest}"),
    }
    deadline = time.monotonic() + 10
    while True:
        logs = admin_client.get(f"/projects/{project}/logs", params={"page_size": 100}).json()
        seen = {(e["operation"], e["resource_type"], e["resource"]) for e in logs}
        if wanted <= seen or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert wanted <= seen
    assert {e["username"] for e in logs} == {"admin"}


def test_hostile_manifests_are_refused_not_crashing(registry_client, repo):
    registry_client.push_image(repo, "seed")
    deep = b"[" * 50_000 + b"]" * 50_000
    r = registry_client.push_manifest(repo, "deep", deep)
    assert r.status_code == 400 and error_code(r) == "MANIFEST_INVALID"
    config = registry_client.push_blob(repo, b"{}")
    long_type = canonical(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": "application/" + "x" * 400,
            "config": {
                "mediaType": "application/vnd.oci.empty.v1+json",
                "digest": config,
                "size": 2,
            },
            "layers": [],
        }
    )
    r = registry_client.push_manifest(repo, "long", long_type)
    assert r.status_code == 400 and error_code(r) == "MANIFEST_INVALID"
