"""Push small images straight through ``/v2`` with plain HTTP (monolithic blob uploads and
manifest PUTs), so API tests need no external client."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import requests

from tests.support.oci import (  # noqa: F401  (constants re-exported for the tests)
    EMPTY_CONFIG,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER,
    OCI_MANIFEST,
)
from tests.support.oci import canonical as _json
from tests.support.oci import sha256 as digest_of
from tests.support.servers import ADMIN_PASSWORD

COSIGN_SIG = "application/vnd.dev.cosign.artifact.sig.v1+json"


@dataclass
class Pushed:
    digest: str
    config_digest: str = ""
    size: int = 0
    children: list[Pushed] = field(default_factory=list)


class Pusher:
    """Pushes into one server as one identity (admin by default)."""

    def __init__(self, base_url: str, auth: tuple[str, str] = ("admin", ADMIN_PASSWORD)):
        self.base = base_url.rstrip("/")
        self.http = requests.Session()
        self.http.auth = auth

    def blob(self, repo: str, data: bytes) -> str:
        digest = digest_of(data)
        r = self.http.post(
            f"{self.base}/v2/{repo}/blobs/uploads/",
            params={"digest": digest},
            data=data,
            headers={"Content-Type": "application/octet-stream"},
            timeout=30,
        )
        assert r.status_code == 201, (r.status_code, r.text)
        return digest

    def manifest(
        self, repo: str, reference: str, manifest: dict, media_type: str = OCI_MANIFEST
    ) -> str:
        body = _json(manifest)
        r = self.http.put(
            f"{self.base}/v2/{repo}/manifests/{reference}",
            data=body,
            headers={"Content-Type": media_type},
            timeout=30,
        )
        assert r.status_code == 201, (r.status_code, r.text)
        return digest_of(body)

    def image(
        self,
        repo: str,
        tag: str | None = "latest",
        *,
        arch: str = "amd64",
        os_name: str = "linux",
        layer: bytes | None = None,
        author: str = "harbor-api tests",
    ) -> Pushed:
        layer = layer if layer is not None else uuid.uuid4().bytes * 8
        layer_digest = self.blob(repo, layer)
        config = {
            "architecture": arch,
            "os": os_name,
            "author": author,
            "created": "2024-01-02T03:04:05Z",
            "config": {"Env": ["PATH=/usr/bin"], "Cmd": ["/bin/sh"]},
            "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
            "history": [
                {
                    "created": "2024-01-02T03:04:05Z",
                    "created_by": "/bin/sh -c #(nop) ADD file in /",
                },
                {
                    "created": "2024-01-02T03:04:06Z",
                    "created_by": '/bin/sh -c #(nop) CMD ["/bin/sh"]',
                    "empty_layer": True,
                },
            ],
        }
        config_bytes = _json(config)
        config_digest = self.blob(repo, config_bytes)
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config_bytes)},
            "layers": [{"mediaType": OCI_LAYER, "digest": layer_digest, "size": len(layer)}],
        }
        body = _json(manifest)
        digest = self.manifest(repo, tag or digest_of(body), manifest)
        return Pushed(digest, config_digest, len(body) + len(config_bytes) + len(layer))

    def index(self, repo: str, tag: str, platforms=(("linux", "amd64"), ("linux", "arm64"))):
        children = [
            self.image(repo, None, arch=arch, os_name=os_name) for os_name, arch in platforms
        ]
        manifests = []
        for child, (os_name, arch) in zip(children, platforms, strict=True):
            r = self.http.get(
                f"{self.base}/v2/{repo}/manifests/{child.digest}",
                headers={"Accept": OCI_MANIFEST},
                timeout=30,
            )
            manifests.append(
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": child.digest,
                    "size": len(r.content),
                    "platform": {"os": os_name, "architecture": arch},
                }
            )
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}
        return Pushed(self.manifest(repo, tag, index, OCI_INDEX), children=children)

    def signature(self, repo: str, subject: str, artifact_type: str = COSIGN_SIG) -> str:
        """An OCI 1.1 referrer (e.g. a cosign signature) whose subject is ``subject``."""
        empty = self.blob(repo, b"{}")
        payload = self.blob(repo, uuid.uuid4().bytes)
        r = self.http.get(
            f"{self.base}/v2/{repo}/manifests/{subject}",
            headers={"Accept": f"{OCI_MANIFEST}, {OCI_INDEX}"},
            timeout=30,
        )
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": artifact_type,
            "config": {"mediaType": EMPTY_CONFIG, "digest": empty, "size": 2},
            "layers": [{"mediaType": "application/octet-stream", "digest": payload, "size": 16}],
            "subject": {
                "mediaType": r.headers.get("Content-Type", OCI_MANIFEST),
                "digest": subject,
                "size": len(r.content),
            },
        }
        return self.manifest(repo, digest_of(_json(manifest)), manifest)
