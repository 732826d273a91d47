"""python-dxf reads a public project anonymously over plain HTTP.

python-dxf refuses any authentication (even an anonymous token) without TLS, so pushing with
it waits for TLS; here an image pushed by skopeo (with credentials) is read back by dxf with
none, which works because anonymous pull of a public project needs no challenge.
"""

from __future__ import annotations

import hashlib

import pytest
import requests
from dxf import DXF
from dxf.exceptions import DXFUnauthorizedError

from tests.support.images import OciLayout
from tests.support.registry_clients import skopeo_copy

pytestmark = pytest.mark.e2e


def test_dxf_anonymous_pull_from_public_project(registry, tmp_path):
    layout = OciLayout(tmp_path / "src")
    image = layout.add_image("v1", layers=2)
    repo = registry.new_repo("dxf")
    skopeo_copy(
        f"oci:{layout.path}:v1",
        f"docker://{registry.host}/{repo}:v1",
        dest_creds=registry.creds_arg,
    )

    with DXF(registry.host, repo, insecure=True) as dxf:
        assert dxf.list_aliases() == ["v1"]
        assert dxf.get_alias("v1") == image.layer_digests
        assert dxf.get_digest("v1") == image.config_digest
        manifest, response = dxf.get_manifest_and_response("v1")
        assert response.headers["Docker-Content-Digest"] == image.manifest_digest
        assert "sha256:" + hashlib.sha256(manifest.encode()).hexdigest() == image.manifest_digest
        for digest in image.layer_digests:
            data = b"".join(dxf.pull_blob(digest))
            assert "sha256:" + hashlib.sha256(data).hexdigest() == digest
            assert dxf.blob_size(digest) == len(data)
            assert data == layout.blob_path(digest).read_bytes()
        config = b"".join(dxf.pull_blob(image.config_digest))
        assert hashlib.sha256(config).hexdigest() == image.config_digest.split(":")[1]


def test_dxf_anonymous_push_is_refused_on_our_registry(harbor_registry, tmp_path):
    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"anonymous write attempt")
    repo = harbor_registry.new_repo("dxfanon")
    with DXF(harbor_registry.host, repo, insecure=True) as dxf:
        with pytest.raises(DXFUnauthorizedError):
            dxf.push_blob(str(blob))
    refused = requests.post(f"{harbor_registry.url}/v2/{repo}/blobs/uploads/", timeout=30)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"]
