"""podman (daemonless, root, vfs storage in a temp dir) pulls from and pushes to the registry."""

from __future__ import annotations

import json

import pytest

from tests.support.images import OciLayout
from tests.support.registry_clients import skopeo_copy, skopeo_inspect

pytestmark = pytest.mark.e2e


def test_podman_login_pull_and_push(registry, podman, tmp_path):
    layout = OciLayout(tmp_path / "src")
    image = layout.add_image("v1", layers=2)
    source, target = registry.new_repo("podsrc"), registry.new_repo("podman")
    skopeo_copy(
        f"oci:{layout.path}:v1",
        f"docker://{registry.host}/{source}:v1",
        dest_creds=registry.creds_arg,
    )
    user, password = registry.creds

    podman("login", "--tls-verify=false", "-u", user, "-p", password, registry.host)
    podman("pull", "-q", "--tls-verify=false", f"{registry.host}/{source}:v1")
    [local] = json.loads(podman("image", "inspect", f"{registry.host}/{source}:v1"))
    assert local["Id"] == image.config_digest.split(":", 1)[1]
    assert local["Digest"] == image.manifest_digest

    digest_file = tmp_path / "pushed.digest"
    podman(
        "push",
        "-q",
        "--tls-verify=false",
        "--digestfile",
        str(digest_file),
        f"{registry.host}/{source}:v1",
        f"{registry.host}/{target}:pushed",
    )
    pushed = digest_file.read_text().strip()
    head = registry.v2(
        "HEAD",
        f"{target}/manifests/pushed",
        headers={
            "Accept": ",".join(
                [
                    "application/vnd.oci.image.manifest.v1+json",
                    "application/vnd.docker.distribution.manifest.v2+json",
                ]
            )
        },
    )
    assert head.status_code == 200
    assert head.headers["Docker-Content-Digest"] == pushed
    inspected = skopeo_inspect(f"docker://{registry.host}/{target}:pushed", registry.creds_arg)
    assert inspected["Digest"] == pushed
    assert len(inspected["Layers"]) == 2

    podman("rmi", "-a", "-f")
    podman(
        "pull",
        "-q",
        "--tls-verify=false",
        "--creds",
        registry.creds_arg,
        f"{registry.host}/{target}@{pushed}",
    )
    [again] = json.loads(podman("image", "inspect", f"{registry.host}/{target}@{pushed}"))
    assert again["Id"] == image.config_digest.split(":", 1)[1]


def test_podman_pulls_the_requested_platform_from_an_index(registry, podman, tmp_path):
    layout = OciLayout(tmp_path / "src")
    index = layout.add_index("multi", [("linux", "amd64"), ("linux", "arm64")])
    repo = registry.new_repo("podmulti")
    skopeo_copy(
        f"oci:{layout.path}:multi",
        f"docker://{registry.host}/{repo}:multi",
        dest_creds=registry.creds_arg,
        extra=["--all"],
    )

    podman(
        "pull",
        "-q",
        "--tls-verify=false",
        "--creds",
        registry.creds_arg,
        "--arch",
        "arm64",
        f"{registry.host}/{repo}:multi",
    )
    [local] = json.loads(podman("image", "inspect", f"{registry.host}/{repo}:multi"))
    assert local["Architecture"] == "arm64"
    assert local["Id"] == index.children[1].config_digest.split(":", 1)[1]
