"""The manifest rules in-process: validation, the digest, references, tag moves, the retry
on a unique-key race, and the one delete-artifact rule."""

from __future__ import annotations

import anyio
import pytest
from sqlalchemy.exc import IntegrityError

from harbor_api.errors import (
    BadRequestError,
    DigestInvalidError,
    ManifestBlobUnknownError,
    ManifestInvalidError,
    NameInvalidError,
)
from harbor_api.services.oci import artifacts
from harbor_api.services.oci.manifests import Manifests, PushedManifest, parse_reference
from tests.support.oci import (
    EMPTY_CONFIG,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER,
    OCI_MANIFEST,
    canonical,
    descriptor,
)
from tests.unit.oci.conftest import ADMIN, Core, sha256

NAME = "library/app"


@pytest.fixture()
def manifests(core: Core) -> Manifests:
    return Manifests(core.db, core.blobs)


def _blob(core: Core, data: bytes) -> dict:
    anyio.run(core.sessions.push_blob, ADMIN, NAME, sha256(data), [data])
    return descriptor(OCI_LAYER, data)


def _image(core: Core, layer: bytes, **extra: object) -> bytes:
    config = b'{"architecture":"amd64","os":"linux"}'
    _blob(core, config)
    return canonical(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": descriptor(OCI_CONFIG, config),
            "layers": [_blob(core, layer)],
            **extra,
        }
    )


def _put(
    manifests: Manifests, reference: str, body: bytes, media_type: str = OCI_MANIFEST
) -> PushedManifest:
    return manifests.put(ADMIN, NAME, parse_reference(reference), body, media_type)


def _resolve(core: Core, reference: str) -> str | None:
    with core.db.read() as s:
        found = artifacts.find_manifest(s, NAME, reference, ":" in reference)
    return found.digest if found else None


def test_references_are_tags_or_digests():
    assert parse_reference("v1.0").tag == "v1.0"
    assert parse_reference(sha256(b"x")).by_digest
    with pytest.raises(NameInvalidError):
        parse_reference("-bad")
    with pytest.raises(DigestInvalidError):
        parse_reference("sha256:short")


def test_a_put_stores_the_manifest_and_moves_the_tag(core: Core, manifests: Manifests):
    first = _put(manifests, "latest", _image(core, b"one"))
    assert _resolve(core, "latest") == first.digest
    second = _put(manifests, "latest", _image(core, b"two"))
    assert _resolve(core, "latest") == second.digest  # the tag moved
    assert _resolve(core, first.digest) == first.digest  # the first stays by digest
    assert core.blobs.get(second.digest) == _image(core, b"two")


def test_a_put_is_validated_before_anything_is_stored(core: Core, manifests: Manifests):
    with pytest.raises(ManifestInvalidError):
        _put(manifests, "latest", b"{not json")
    body = _image(core, b"one")
    with pytest.raises(DigestInvalidError):
        _put(manifests, sha256(b"other"), body)
    missing = canonical(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": descriptor(EMPTY_CONFIG, b"{}"),
            "layers": [descriptor(OCI_LAYER, b"never pushed")],
        }
    )
    with pytest.raises(ManifestBlobUnknownError):
        _put(manifests, "latest", missing)
    assert _resolve(core, "latest") is None


def test_an_index_needs_its_children_and_records_them(core: Core, manifests: Manifests):
    child = _image(core, b"one")
    index = canonical(
        {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [descriptor(OCI_MANIFEST, child)]}
    )
    with pytest.raises(ManifestBlobUnknownError):
        _put(manifests, "multi", index, OCI_INDEX)
    _put(manifests, sha256(child), child)
    assert _put(manifests, "multi", index, OCI_INDEX).media_type == OCI_INDEX


def test_a_subject_is_reported(core: Core, manifests: Manifests):
    subject = _put(manifests, "latest", _image(core, b"one"))
    referrer = _image(
        core,
        b"sig",
        subject={"mediaType": OCI_MANIFEST, "digest": subject.digest, "size": subject.size},
    )
    assert _put(manifests, sha256(referrer), referrer).subject == subject.digest


def test_a_lost_unique_key_race_is_retried(core: Core, manifests: Manifests, monkeypatch):
    real = artifacts.record_manifest
    failures = iter([True])

    def racing(*args, **kwargs):  # a concurrent push of the same tag commits first
        if next(failures, False):
            raise IntegrityError("INSERT INTO tags", {}, Exception("UNIQUE constraint"))
        return real(*args, **kwargs)

    monkeypatch.setattr(artifacts, "record_manifest", racing)
    pushed = _put(manifests, "latest", _image(core, b"one"))
    assert _resolve(core, "latest") == pushed.digest


def test_a_race_lost_every_time_is_an_error(core: Core, manifests: Manifests, monkeypatch):
    def always(*args, **kwargs):
        raise IntegrityError("INSERT INTO tags", {}, Exception("UNIQUE constraint"))

    monkeypatch.setattr(artifacts, "record_manifest", always)
    with pytest.raises(IntegrityError):
        _put(manifests, "latest", _image(core, b"one"))


def test_delete_refuses_an_indexed_child_and_takes_accessories(core: Core, manifests: Manifests):
    child = _image(core, b"one")
    _put(manifests, sha256(child), child)
    index = canonical(
        {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [descriptor(OCI_MANIFEST, child)]}
    )
    top = _put(manifests, "multi", index, OCI_INDEX)
    signature = _image(
        core, b"sig", subject={"mediaType": OCI_INDEX, "digest": top.digest, "size": top.size}
    )
    _put(manifests, sha256(signature), signature)
    with pytest.raises(BadRequestError, match="referenced by an index"):
        manifests.delete(ADMIN, NAME, parse_reference(sha256(child)))
    assert _resolve(core, sha256(child)) == sha256(child)
    assert manifests.delete(ADMIN, NAME, parse_reference(top.digest)) is True
    for gone in (top.digest, sha256(child), sha256(signature)):
        assert _resolve(core, gone) is None
    assert manifests.delete(ADMIN, NAME, parse_reference(top.digest)) is False


def test_delete_by_tag_removes_only_the_tag(core: Core, manifests: Manifests):
    pushed = _put(manifests, "latest", _image(core, b"one"))
    assert manifests.delete(ADMIN, NAME, parse_reference("latest")) is True
    assert _resolve(core, "latest") is None and _resolve(core, pushed.digest) is not None
    assert manifests.delete(ADMIN, NAME, parse_reference("latest")) is False
