import json

import pytest

from harbor_api.errors import ManifestInvalidError
from harbor_api.registry.manifests import (
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_INDEX,
    OCI_MANIFEST,
    parse_manifest,
)

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


def desc(media_type="application/vnd.oci.image.layer.v1.tar", digest=D1, size=3, **extra):
    return {"mediaType": media_type, "digest": digest, "size": size, **extra}


def image(**fields):
    base = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": desc("application/vnd.oci.image.config.v1+json", D2),
        "layers": [desc()],
    }
    base.update(fields)
    return json.dumps(base).encode()


def test_oci_image_manifest():
    parsed = parse_manifest(image(annotations={"a": "b"}), OCI_MANIFEST)
    assert parsed.media_type == OCI_MANIFEST and not parsed.is_index
    assert parsed.config.digest == D2 and parsed.layers[0].digest == D1
    assert parsed.effective_artifact_type == "application/vnd.oci.image.config.v1+json"
    assert parsed.referenced_size() == 6 and parsed.annotations == {"a": "b"}


def test_artifact_with_subject():
    body = image(artifactType="application/vnd.example.sbom", subject=desc(OCI_MANIFEST, D1))
    parsed = parse_manifest(body, "")
    assert parsed.subject.digest == D1
    assert parsed.effective_artifact_type == "application/vnd.example.sbom"


def test_media_type_inferred_from_body_or_shape():
    assert parse_manifest(image(), "application/json").media_type == OCI_MANIFEST
    no_type = json.loads(image())
    del no_type["mediaType"]
    assert parse_manifest(json.dumps(no_type).encode()).media_type == OCI_MANIFEST
    index = {"schemaVersion": 2, "manifests": [desc(OCI_MANIFEST, platform={"os": "linux"})]}
    parsed = parse_manifest(json.dumps(index).encode())
    assert parsed.is_index and parsed.media_type == OCI_INDEX
    assert parsed.manifests[0].platform == {"os": "linux"}


def test_docker_types():
    body = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST,
            "config": desc("application/vnd.docker.container.image.v1+json"),
            "layers": [desc("application/vnd.docker.image.rootfs.diff.tar.gzip")],
        }
    )
    assert parse_manifest(body.encode(), DOCKER_MANIFEST).media_type == DOCKER_MANIFEST
    listing = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST_LIST,
            "manifests": [desc(DOCKER_MANIFEST)],
        }
    )
    assert parse_manifest(listing.encode(), DOCKER_MANIFEST_LIST).is_index


def test_foreign_layers_flagged():
    body = image(
        layers=[
            desc(
                "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
                urls=["https://example.com/layer"],
            )
        ]
    )
    assert parse_manifest(body).layers[0].is_foreign


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"{not json", OCI_MANIFEST),
        (b"[]", OCI_MANIFEST),
        (image(schemaVersion=1), OCI_MANIFEST),
        (image(), OCI_INDEX),  # Content-Type disagrees with mediaType
        (image(mediaType="application/vnd.example+json"), ""),
        (image(config=None), OCI_MANIFEST),
        (image(config=desc(digest="sha256:short")), OCI_MANIFEST),
        (image(layers=[desc(size=-1)]), OCI_MANIFEST),
        (image(layers=[desc(size="3")]), OCI_MANIFEST),
        (image(layers="nope"), OCI_MANIFEST),
        (image(annotations={"a": 1}), OCI_MANIFEST),
        (image(subject="x"), OCI_MANIFEST),
        (image(artifactType=5), OCI_MANIFEST),
        (image(artifactType="not a media type"), OCI_MANIFEST),
        (image(artifactType="application/" + "x" * 300), OCI_MANIFEST),
        (image(layers=[desc(media_type="bad")]), OCI_MANIFEST),
        (image(layers=[desc(size=2**64)]), OCI_MANIFEST),
        (b"[" * 100_000 + b"]" * 100_000, OCI_MANIFEST),
        (json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": {}}).encode(), ""),
        (
            json.dumps(
                {"schemaVersion": 2, "mediaType": DOCKER_MANIFEST_LIST, "manifests": [desc()]}
            ).encode(),
            DOCKER_MANIFEST_LIST,
        ),
        (
            json.dumps(
                {"schemaVersion": 2, "mediaType": DOCKER_MANIFEST, "config": desc(), "layers": []}
            ).encode(),
            DOCKER_MANIFEST,
        ),
        (
            json.dumps({"schemaVersion": 1, "name": "x"}).encode(),
            "application/vnd.docker.distribution.manifest.v1+prettyjws",
        ),
    ],
)
def test_invalid_manifests(body, content_type):
    with pytest.raises(ManifestInvalidError):
        parse_manifest(body, content_type)
