"""oras-py pushes an artifact that refers to an image (``subject``); referrers find it."""

from __future__ import annotations

import hashlib
import os

import oras.client
import oras.oci
import pytest
import requests

from tests.support.images import MT_INDEX, MT_MANIFEST, OciLayout
from tests.support.registry_clients import skopeo_copy

pytestmark = pytest.mark.e2e
SIGNATURE_TYPE = "application/vnd.e2e.signature.v1+json"


def oras_client(registry) -> oras.client.OrasClient:
    """oras-py with Basic credentials; a Bearer challenge would need its token backend."""
    challenge = requests.get(f"{registry.url}/v2/", timeout=30).headers.get("WWW-Authenticate", "")
    backend = "token" if challenge.lower().startswith("bearer") else "basic"
    client = oras.client.OrasClient(
        hostname=registry.host, insecure=True, tls_verify=False, auth_backend=backend
    )
    client.auth.set_basic_auth(*registry.creds)
    return client


def push_subject_image(registry, tmp_path, repo: str):
    layout = OciLayout(tmp_path / "subject")
    image = layout.add_image("v1", layers=1)
    skopeo_copy(
        f"oci:{layout.path}:v1",
        f"docker://{registry.host}/{repo}:v1",
        dest_creds=registry.creds_arg,
    )
    return image


def test_oras_artifact_with_subject_is_listed_by_referrers(registry, tmp_path, monkeypatch):
    repo = registry.new_repo("oras")
    image = push_subject_image(registry, tmp_path, repo)
    client = oras_client(registry)
    monkeypatch.chdir(tmp_path)  # oras-py only pushes files below the working directory
    payload = os.urandom(50_000) + b"signed\n"
    (tmp_path / "signature.bin").write_bytes(payload)
    (tmp_path / "config.json").write_text('{"signer":"e2e"}')
    subject = oras.oci.Subject(
        mediaType=MT_MANIFEST, digest=image.manifest_digest, size=image.manifest_size
    )

    pushed = client.push(
        target=f"{registry.host}/{repo}:sig",
        files=["signature.bin"],
        manifest_config=f"config.json:{SIGNATURE_TYPE}",
        subject=subject,
        quiet=True,
    )

    assert pushed.status_code == 201
    artifact_digest = pushed.headers["Docker-Content-Digest"]
    stored = registry.manifest(repo, artifact_digest)
    assert stored.status_code == 200
    assert "sha256:" + hashlib.sha256(stored.content).hexdigest() == artifact_digest
    assert stored.json()["subject"]["digest"] == image.manifest_digest
    pulled = client.pull(target=f"{registry.host}/{repo}:sig", outdir=str(tmp_path / "out"))
    assert [open(path, "rb").read() for path in pulled] == [payload]

    if registry.kind == "distribution":  # Distribution 2.8 predates the referrers API
        assert registry.v2("GET", f"{repo}/referrers/{image.manifest_digest}").status_code == 404
        return
    assert pushed.headers.get("OCI-Subject") == image.manifest_digest
    referrers = registry.v2("GET", f"{repo}/referrers/{image.manifest_digest}")
    assert referrers.status_code == 200
    assert referrers.headers["Content-Type"].startswith(MT_INDEX)
    [descriptor] = referrers.json()["manifests"]
    assert descriptor["digest"] == artifact_digest
    assert descriptor["artifactType"] == SIGNATURE_TYPE
    assert descriptor["size"] == len(stored.content)

    matching = registry.v2(
        "GET", f"{repo}/referrers/{image.manifest_digest}", params={"artifactType": SIGNATURE_TYPE}
    )
    assert [d["digest"] for d in matching.json()["manifests"]] == [artifact_digest]
    assert "artifactType" in matching.headers.get("OCI-Filters-Applied", "")
    other = registry.v2(
        "GET",
        f"{repo}/referrers/{image.manifest_digest}",
        params={"artifactType": "application/vnd.e2e.other"},
    )
    assert other.status_code == 200 and other.json()["manifests"] == []


def test_oras_push_pull_and_tags(registry, tmp_path, monkeypatch):
    repo = registry.new_repo("orasfile")
    client = oras_client(registry)
    monkeypatch.chdir(tmp_path)
    payload = os.urandom(300_000)
    (tmp_path / "artifact.bin").write_bytes(payload)

    client.push(target=f"{registry.host}/{repo}:v1", files=["artifact.bin"], quiet=True)
    client.push(
        target=f"{registry.host}/{repo}:v2",
        files=["artifact.bin"],
        quiet=True,
        do_chunked=True,
        chunk_size=64 * 1024,
    )

    for tag in ("v1", "v2"):
        [path] = client.pull(
            target=f"{registry.host}/{repo}:{tag}", outdir=str(tmp_path / f"out-{tag}")
        )
        assert open(path, "rb").read() == payload
    assert sorted(client.get_tags(f"{registry.host}/{repo}")) == ["v1", "v2"]
