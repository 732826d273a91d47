"""buildah builds an image FROM scratch, pushes it with --creds and pulls it back.

Runs against our server and the CNCF Distribution reference; digests are checked against
what the registry serves (and, on ours, what the Harbor API reports for the artifact).
"""

from __future__ import annotations

import uuid

import pytest

from tests.support.clients import ApiClient
from tests.support.registry_clients import ADMIN, MANIFEST_ACCEPT, Registry

pytestmark = pytest.mark.e2e

MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


def served_digest(registry: Registry, repo: str, reference: str) -> str:
    head = registry.v2("HEAD", f"{repo}/manifests/{reference}", headers={"Accept": MANIFEST_ACCEPT})
    assert head.status_code == 200, head.status_code
    return head.headers["Docker-Content-Digest"]


def api_digest(registry: Registry, repo: str, reference: str) -> str:
    project, name = repo.split("/", 1)
    with ApiClient(registry.server.url, ADMIN) as api:
        r = api.get(f"/projects/{project}/repositories/{name}/artifacts/{reference}")
    assert r.status_code == 200, r.text
    return r.json()["digest"]


@pytest.mark.parametrize(
    "fmt, media_type", [("oci", MT_OCI_MANIFEST), ("v2s2", MT_DOCKER_MANIFEST)]
)
def test_buildah_build_push_and_pull_back(registry, buildah, tmp_path, fmt, media_type):
    payload = f"built by buildah {uuid.uuid4()}\n".encode()
    image_id = buildah.build_scratch(
        "e2e-local", {"/hello.txt": payload, "/etc/motd": b"scratch\n"}
    )
    repo = registry.new_repo("buildah")
    target = f"docker://{registry.host}/{repo}:v1"
    digest_file = tmp_path / "digest"
    buildah(
        "push",
        "-q",
        "--tls-verify=false",
        "--creds",
        registry.creds_arg,
        "--format",
        fmt,
        "--digestfile",
        str(digest_file),
        "e2e-local",
        target,
    )
    pushed = digest_file.read_text().strip()

    assert served_digest(registry, repo, "v1") == pushed
    if registry.kind == "harbor":
        assert api_digest(registry, repo, "v1") == pushed
    manifest = registry.manifest(repo, pushed).json()
    assert manifest["mediaType"] == media_type
    assert manifest["config"]["digest"] == f"sha256:{image_id}"
    assert len(manifest["layers"]) == 1

    buildah("rmi", "-a", "-f")
    buildah(
        "pull",
        "-q",
        "--tls-verify=false",
        "--creds",
        registry.creds_arg,
        f"docker://{registry.host}/{repo}@{pushed}",
    )
    pulled = buildah.inspect_image(f"{registry.host}/{repo}@{pushed}")
    assert pulled["FromImageID"] == image_id
    assert pulled["FromImageDigest"] == pushed
    assert buildah.read_file(f"{registry.host}/{repo}@{pushed}", "/hello.txt") == payload


def test_buildah_push_with_a_wrong_password_is_refused(harbor_registry, buildah):
    buildah.build_scratch("e2e-refused", {"/x": b"x"})
    repo = harbor_registry.new_repo("buildahbad")
    output = buildah.fails(
        "push",
        "--tls-verify=false",
        "--creds",
        "admin:wrong-password",
        "e2e-refused",
        f"docker://{harbor_registry.host}/{repo}:v1",
    )
    assert "invalid username/password: unauthorized: invalid credentials" in output, output
    assert harbor_registry.v2("HEAD", f"{repo}/manifests/v1").status_code == 404
