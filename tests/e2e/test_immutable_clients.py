"""An immutable tag as real clients meet it: skopeo and podman pushing another image to it
see Harbor's refusal ("… configured as immutable") and the tag keeps its digest; pushing
the same image again succeeds."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.support.images import OciLayout
from tests.support.registry_clients import skopeo_copy

pytestmark = pytest.mark.e2e

REFUSAL = "'app:v1' configured as immutable"


def immutable_project(harbor_registry) -> str:
    """A project whose tags ``v*`` of every repository are immutable."""
    name = f"immu-e2e-{uuid.uuid4().hex[:8]}"
    api = f"{harbor_registry.url}/api/v2.0/projects"
    r = requests.post(api, auth=harbor_registry.creds, json={"project_name": name}, timeout=30)
    assert r.status_code == 201, r.text
    rule = {
        "template": "immutable_template",
        "action": "immutable",
        "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "v*"}],
        "scope_selectors": {
            "repository": [{"kind": "doublestar", "decoration": "repoMatches", "pattern": "**"}]
        },
    }
    r = requests.post(
        f"{api}/{name}/immutabletagrules", auth=harbor_registry.creds, json=rule, timeout=30
    )
    assert r.status_code == 201, r.text
    return name


def tag_digest(harbor_registry, project: str) -> str:
    r = harbor_registry.v2(
        "HEAD",
        f"{project}/app/manifests/v1",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
    )
    assert r.status_code == 200
    return r.headers["Docker-Content-Digest"]


def test_skopeo_shows_the_immutable_refusal(harbor_registry, tmp_path):
    project = immutable_project(harbor_registry)
    layout = OciLayout(tmp_path / "src")
    first = layout.add_image("v1", layers=1)
    layout.add_image("v2", layers=1)
    target = f"docker://{harbor_registry.host}/{project}/app:v1"
    skopeo_copy(f"oci:{layout.path}:v1", target, dest_creds=harbor_registry.creds_arg)
    with pytest.raises(AssertionError) as refused:
        skopeo_copy(f"oci:{layout.path}:v2", target, dest_creds=harbor_registry.creds_arg)
    assert REFUSAL in str(refused.value)
    assert tag_digest(harbor_registry, project) == first.manifest_digest
    # the same image again is no change: allowed
    skopeo_copy(f"oci:{layout.path}:v1", target, dest_creds=harbor_registry.creds_arg)
    assert tag_digest(harbor_registry, project) == first.manifest_digest


def test_podman_shows_the_immutable_refusal(harbor_registry, podman, tmp_path):
    project = immutable_project(harbor_registry)
    layout = OciLayout(tmp_path / "src")
    first = layout.add_image("v1", layers=1)
    layout.add_image("v2", layers=1)
    target = f"docker://{harbor_registry.host}/{project}/app:v1"
    skopeo_copy(f"oci:{layout.path}:v1", target, dest_creds=harbor_registry.creds_arg)
    image_id = podman("pull", "-q", f"oci:{layout.path}:v2").strip().splitlines()[-1]
    with pytest.raises(AssertionError) as refused:
        podman("push", "--tls-verify=false", "--creds", harbor_registry.creds_arg, image_id, target)
    assert REFUSAL in str(refused.value)
    assert tag_digest(harbor_registry, project) == first.manifest_digest
