"""A push over a project's storage quota, as real clients show it: Harbor's DENIED with its
words ("adding … will exceed the configured upper limit of …") in skopeo's, podman's and docker's
output, and nothing counted."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.support.images import OciLayout
from tests.support.registry_clients import ADMIN, skopeo_copy

pytestmark = pytest.mark.e2e

QUOTA_WORDS = "will exceed the configured upper limit of 100.0 KiB"


def small_project(harbor_registry) -> str:
    name = f"quota-e2e-{uuid.uuid4().hex[:8]}"
    r = requests.post(
        f"{harbor_registry.url}/api/v2.0/projects",
        auth=harbor_registry.creds,
        json={"project_name": name, "storage_limit": 100 * 1024},
        timeout=30,
    )
    assert r.status_code == 201, r.text
    return name


def used(harbor_registry, project: str) -> int:
    r = requests.get(
        f"{harbor_registry.url}/api/v2.0/projects/{project}/summary",
        auth=harbor_registry.creds,
        timeout=30,
    )
    return r.json()["quota"]["used"]["storage"]


def test_skopeo_shows_the_quota_refusal(harbor_registry, tmp_path):
    project = small_project(harbor_registry)
    layout = OciLayout(tmp_path / "src")
    layout.add_image("v1", layers=1, big_layer=300 * 1024)
    with pytest.raises(AssertionError) as refused:
        skopeo_copy(
            f"oci:{layout.path}:v1",
            f"docker://{harbor_registry.host}/{project}/app:v1",
            dest_creds=harbor_registry.creds_arg,
        )
    assert "denied" in str(refused.value).lower()
    assert QUOTA_WORDS in str(refused.value)
    assert used(harbor_registry, project) < 100 * 1024


def test_podman_shows_the_quota_refusal(harbor_registry, podman, tmp_path):
    project = small_project(harbor_registry)
    layout = OciLayout(tmp_path / "src")
    layout.add_image("v1", layers=1, big_layer=300 * 1024)
    image_id = podman("pull", "-q", f"oci:{layout.path}:v1").strip().splitlines()[-1]
    with pytest.raises(AssertionError) as refused:
        podman(
            "push",
            "--tls-verify=false",
            "--creds",
            harbor_registry.creds_arg,
            image_id,
            f"docker://{harbor_registry.host}/{project}/app:v1",
        )
    assert QUOTA_WORDS in str(refused.value)
    assert used(harbor_registry, project) < 100 * 1024


def test_docker_shows_the_quota_refusal(harbor_registry, docker, tmp_path):
    project = small_project(harbor_registry)
    ref = f"{harbor_registry.host}/{project}/app:v1"
    layout = OciLayout(tmp_path / "src")
    layout.add_image("v1", layers=1, big_layer=300 * 1024)
    docker.load_layout(layout, "v1", ref, tmp_path)
    docker.login(harbor_registry.host, *ADMIN)
    output = docker.fails("push", ref)
    assert "denied" in output.lower() and QUOTA_WORDS in output, output
    assert used(harbor_registry, project) < 100 * 1024
