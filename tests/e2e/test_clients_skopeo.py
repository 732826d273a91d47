"""skopeo against the registry: push from an OCI layout, pull back, repo-to-repo, multi-arch."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.support.images import MT_INDEX, OciLayout, read_layout_index
from tests.support.registry_clients import (
    run,
    skopeo_copy,
    skopeo_inspect,
    skopeo_list_tags,
)

pytestmark = pytest.mark.e2e


def file_digest(path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def test_push_and_pull_back_preserves_every_digest(registry, tmp_path):
    layout = OciLayout(tmp_path / "src")
    image = layout.add_image("v1", layers=2)
    repo = registry.new_repo("skopeo")
    ref = f"docker://{registry.host}/{repo}"

    skopeo_copy(f"oci:{layout.path}:v1", f"{ref}:v1", dest_creds=registry.creds_arg)

    head = registry.v2(
        "HEAD",
        f"{repo}/manifests/v1",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
    )
    assert head.status_code == 200
    assert head.headers["Docker-Content-Digest"] == image.manifest_digest
    for digest in [image.config_digest, *image.layer_digests]:
        blob = registry.v2("HEAD", f"{repo}/blobs/{digest}")
        assert blob.status_code == 200, digest
        assert blob.headers["Docker-Content-Digest"] == digest
        assert int(blob.headers["Content-Length"]) == layout.blob_path(digest).stat().st_size

    back = tmp_path / "back"
    skopeo_copy(
        f"{ref}:v1",
        f"oci:{back}:v1",
        src_creds=registry.creds_arg,
        extra=["--dest-oci-accept-uncompressed-layers"],
    )
    [entry] = read_layout_index(back)
    assert entry["digest"] == image.manifest_digest
    for digest in [image.manifest_digest, image.config_digest, *image.layer_digests]:
        assert file_digest(back / "blobs" / "sha256" / digest.split(":")[1]) == digest

    inspected = skopeo_inspect(f"{ref}:v1", registry.creds_arg)
    assert inspected["Digest"] == image.manifest_digest
    assert inspected["Layers"] == image.layer_digests
    assert inspected["Architecture"] == "amd64"


def test_repo_to_repo_copy_inside_the_registry(registry, tmp_path):
    layout = OciLayout(tmp_path / "src")
    image = layout.add_image("v1", layers=2)
    source, target = registry.new_repo("from"), registry.new_repo("to")
    skopeo_copy(
        f"oci:{layout.path}:v1",
        f"docker://{registry.host}/{source}:v1",
        dest_creds=registry.creds_arg,
    )

    skopeo_copy(
        f"docker://{registry.host}/{source}:v1",
        f"docker://{registry.host}/{target}:copied",
        src_creds=registry.creds_arg,
        dest_creds=registry.creds_arg,
    )

    got = registry.manifest(target, "copied")
    assert got.status_code == 200
    assert got.headers["Docker-Content-Digest"] == image.manifest_digest
    assert "sha256:" + hashlib.sha256(got.content).hexdigest() == image.manifest_digest
    for digest in image.layer_digests:
        assert registry.v2("HEAD", f"{target}/blobs/{digest}").status_code == 200
    by_digest = registry.manifest(target, image.manifest_digest)
    assert by_digest.status_code == 200 and by_digest.content == got.content


def test_list_tags_and_gzip_push(registry, tmp_path):
    """Without --preserve-digests skopeo recompresses layers: new blobs, still a valid image."""
    layout = OciLayout(tmp_path / "src")
    layout.add_image("v1", layers=1)
    repo = registry.new_repo("tags")
    ref = f"docker://{registry.host}/{repo}"
    run(
        [
            "skopeo",
            "copy",
            "-q",
            "--dest-tls-verify=false",
            "--dest-creds",
            registry.creds_arg,
            "--dest-compress",
            f"oci:{layout.path}:v1",
            f"{ref}:gzipped",
        ]
    )
    skopeo_copy(f"oci:{layout.path}:v1", f"{ref}:plain", dest_creds=registry.creds_arg)

    assert sorted(skopeo_list_tags(ref, registry.creds_arg)) == ["gzipped", "plain"]
    gz = skopeo_inspect(f"{ref}:gzipped", registry.creds_arg, raw=True)
    assert all(layer["mediaType"].endswith("+gzip") for layer in gz["layers"])
    for layer in gz["layers"]:
        blob = registry.v2("GET", f"{repo}/blobs/{layer['digest']}")
        assert blob.status_code == 200
        assert "sha256:" + hashlib.sha256(blob.content).hexdigest() == layer["digest"]


def test_multi_arch_index_round_trip(registry, tmp_path):
    layout = OciLayout(tmp_path / "src")
    index = layout.add_index("multi", [("linux", "amd64"), ("linux", "arm64")])
    repo = registry.new_repo("multiarch")
    ref = f"docker://{registry.host}/{repo}"

    skopeo_copy(
        f"oci:{layout.path}:multi", f"{ref}:multi", dest_creds=registry.creds_arg, extra=["--all"]
    )

    got = registry.manifest(repo, "multi")
    assert got.status_code == 200
    assert got.headers["Content-Type"] == MT_INDEX
    assert got.headers["Docker-Content-Digest"] == index.digest
    assert [m["digest"] for m in got.json()["manifests"]] == [
        c.manifest_digest for c in index.children
    ]
    for child in index.children:
        head = registry.v2(
            "HEAD",
            f"{repo}/manifests/{child.manifest_digest}",
            headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
        )
        assert head.status_code == 200, child.platform

    back = tmp_path / "back"
    skopeo_copy(
        f"{ref}:multi",
        f"oci:{back}:multi",
        src_creds=registry.creds_arg,
        extra=["--all", "--dest-oci-accept-uncompressed-layers"],
    )
    [entry] = read_layout_index(back)
    assert entry["digest"] == index.digest
    for child in index.children:
        for digest in [child.manifest_digest, child.config_digest, *child.layer_digests]:
            assert file_digest(back / "blobs" / "sha256" / digest.split(":")[1]) == digest
    arm = json.loads(
        run(
            [
                "skopeo",
                "--override-arch",
                "arm64",
                "inspect",
                "--tls-verify=false",
                "--creds",
                registry.creds_arg,
                f"{ref}:multi",
            ]
        )
    )
    assert arm["Architecture"] == "arm64"
    assert arm["Layers"] == index.children[1].layer_digests


def test_docker_schema2_push_pull_and_delete(registry, tmp_path):
    """skopeo --format v2s2 writes a Docker manifest; it comes back as pushed, and
    skopeo delete removes it (by the digest the tag resolves to)."""
    layout = OciLayout(tmp_path / "src")
    layout.add_image("v1", layers=1)
    repo = registry.new_repo("v2s2")
    ref = f"docker://{registry.host}/{repo}"
    run(
        [
            "skopeo",
            "copy",
            "-q",
            "--dest-tls-verify=false",
            "--dest-creds",
            registry.creds_arg,
            "--format",
            "v2s2",
            f"oci:{layout.path}:v1",
            f"{ref}:docker",
        ]
    )

    raw = run(
        [
            "skopeo",
            "inspect",
            "--raw",
            "--tls-verify=false",
            "--creds",
            registry.creds_arg,
            f"{ref}:docker",
        ]
    ).encode()
    manifest = json.loads(raw)
    assert manifest["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    digest = "sha256:" + hashlib.sha256(raw).hexdigest()
    got = registry.manifest(repo, "docker")
    assert got.headers["Content-Type"] == manifest["mediaType"]
    assert got.headers["Docker-Content-Digest"] == digest
    back = tmp_path / "back"
    skopeo_copy(f"{ref}:docker", f"dir:{back}", src_creds=registry.creds_arg)
    assert (back / "manifest.json").read_bytes() == raw

    run(["skopeo", "delete", "--tls-verify=false", "--creds", registry.creds_arg, f"{ref}:docker"])
    gone = registry.manifest(repo, digest)
    assert gone.status_code == 404
    assert gone.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"


def test_second_repository_reuses_blobs_by_mount(registry, tmp_path):
    """Pushing the same image to a second repository: skopeo mounts known blobs across
    repositories (its blob-info cache remembers the first one); the image is whole there."""
    layout = OciLayout(tmp_path / "src")
    image = layout.add_image("v1", layers=2)
    first, second = registry.new_repo("mount-a"), registry.new_repo("mount-b")
    for repo in (first, second):
        skopeo_copy(
            f"oci:{layout.path}:v1",
            f"docker://{registry.host}/{repo}:v1",
            dest_creds=registry.creds_arg,
        )
    for digest in [image.config_digest, *image.layer_digests]:
        blob = registry.v2("GET", f"{second}/blobs/{digest}")
        assert blob.status_code == 200
        assert "sha256:" + hashlib.sha256(blob.content).hexdigest() == digest

    third = registry.new_repo("mount-c")
    mounted = registry.v2(
        "POST", f"{third}/blobs/uploads/", params={"mount": image.layer_digests[0], "from": first}
    )
    assert mounted.status_code == 201, mounted.text
    assert mounted.headers["Docker-Content-Digest"] == image.layer_digests[0]
    assert registry.v2("HEAD", f"{third}/blobs/{image.layer_digests[0]}").status_code == 200
