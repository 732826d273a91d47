"""A small OCI Distribution client for tests: push blobs, manifests and whole images."""

from __future__ import annotations

import hashlib
import json

import requests

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
EMPTY_CONFIG = "application/vnd.oci.empty.v1+json"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def sha512(data: bytes) -> str:
    return "sha512:" + hashlib.sha512(data).hexdigest()


def descriptor(media_type: str, data: bytes, **extra) -> dict:
    return {"mediaType": media_type, "digest": sha256(data), "size": len(data), **extra}


def canonical(document: dict) -> bytes:
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


class RegistryClient(requests.Session):
    """``client.get("/v2/...")``; relative Location headers are resolved against the server."""

    def __init__(self, base_url: str, auth: tuple[str, str] | None = None) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        if auth:
            self.auth = auth

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        if url.startswith("/"):
            url = self.base_url + url
        kwargs.setdefault("timeout", 60)
        return super().request(method, url, *args, **kwargs)

    def start_upload(self, name: str) -> str:
        r = self.post(f"/v2/{name}/blobs/uploads/")
        assert r.status_code == 202, r.text
        return r.headers["Location"]

    def push_blob(self, name: str, data: bytes) -> str:
        """POST a session, then PUT the whole body with the digest."""
        location = self.start_upload(name)
        digest = sha256(data)
        r = self.put(
            location,
            params={"digest": digest},
            data=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        assert r.status_code == 201, r.text
        return digest

    def push_manifest(
        self, name: str, reference: str, body: bytes, media_type: str = OCI_MANIFEST
    ) -> requests.Response:
        return self.put(
            f"/v2/{name}/manifests/{reference}", data=body, headers={"Content-Type": media_type}
        )

    def push_image(
        self,
        name: str,
        reference: str,
        layers: tuple[bytes, ...] = (b"layer",),
        config: bytes | None = None,
        **fields,
    ) -> tuple[str, bytes]:
        """Push blobs and an OCI image manifest; return (manifest digest, manifest bytes)."""
        config = (
            config
            if config is not None
            else canonical(
                {
                    "architecture": "amd64",
                    "os": "linux",
                    "rootfs": {"type": "layers", "diff_ids": []},
                }
            )
        )
        self.push_blob(name, config)
        for layer in layers:
            self.push_blob(name, layer)
        manifest = canonical(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": descriptor(fields.pop("config_type", OCI_CONFIG), config),
                "layers": [descriptor(OCI_LAYER, layer) for layer in layers],
                **fields,
            }
        )
        r = self.push_manifest(name, reference, manifest)
        assert r.status_code == 201, r.text
        return sha256(manifest), manifest
