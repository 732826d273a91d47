"""Parse a manifest body and check it against the OCI image / Docker schema 2 rules.

Only the structure is checked here; whether referenced blobs exist is the caller's business
(it needs the database). Errors raise :class:`ManifestInvalidError`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from harbor_api.errors import DigestInvalidError, ManifestInvalidError
from harbor_api.registry.digest import parse_digest
from harbor_api.registry.manifests.media_types import (
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    DOCKER_SCHEMA1,
    GENERIC_TYPES,
    IMAGE_TYPES,
    INDEX_TYPES,
    MANIFEST_TYPES,
    OCI_INDEX,
    OCI_MANIFEST,
)


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    artifact_type: str = ""
    annotations: dict[str, str] | None = None
    platform: dict[str, Any] | None = None
    urls: tuple[str, ...] = ()

    @property
    def is_foreign(self) -> bool:
        """A layer the registry need not hold (Docker foreign / OCI non-distributable)."""
        return bool(self.urls) and (
            "foreign" in self.media_type or "nondistributable" in self.media_type
        )


@dataclass(frozen=True)
class ParsedManifest:
    media_type: str
    config: Descriptor | None = None
    layers: tuple[Descriptor, ...] = ()
    manifests: tuple[Descriptor, ...] = ()
    subject: Descriptor | None = None
    artifact_type: str = ""
    annotations: dict[str, str] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES

    @property
    def effective_artifact_type(self) -> str:
        """What the referrers API reports: ``artifactType``, else the config media type."""
        if self.artifact_type:
            return self.artifact_type
        return self.config.media_type if self.config is not None else ""

    def referenced_size(self) -> int:
        parts = ([self.config] if self.config else []) + list(self.layers) + list(self.manifests)
        return min(sum(d.size for d in parts), MAX_SIZE // 2)


MAX_SIZE = 2**63 - 1
# RFC 6838 type/subtype (no parameters), as the OCI image spec requires of mediaType
_MEDIA_TYPE = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/"
    r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$"
)


def _check_media_type(value: str, where: str) -> None:
    if not _MEDIA_TYPE.match(value):
        raise _fail(f"{where} {value[:80]!r} is not a valid media type")


def _fail(message: str) -> ManifestInvalidError:
    return ManifestInvalidError(f"manifest invalid: {message}")


def _string_map(value: Any, where: str) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise _fail(f"{where} must be an object of strings")
    return value


def parse_descriptor(value: Any, where: str) -> Descriptor:
    if not isinstance(value, dict):
        raise _fail(f"{where} must be a descriptor object")
    media_type, digest, size = value.get("mediaType"), value.get("digest"), value.get("size")
    if not isinstance(media_type, str) or not media_type:
        raise _fail(f"{where}.mediaType is required")
    _check_media_type(media_type, f"{where}.mediaType")
    if not isinstance(digest, str):
        raise _fail(f"{where}.digest is required")
    try:
        parse_digest(digest)
    except DigestInvalidError:
        raise _fail(f"{where}.digest {digest[:80]!r} is not a valid digest") from None
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_SIZE:
        raise _fail(f"{where}.size must be a non-negative 64-bit integer")
    artifact_type = value.get("artifactType", "")
    if not isinstance(artifact_type, str):
        raise _fail(f"{where}.artifactType must be a string")
    if artifact_type:
        _check_media_type(artifact_type, f"{where}.artifactType")
    platform = value.get("platform")
    if platform is not None and not isinstance(platform, dict):
        raise _fail(f"{where}.platform must be an object")
    urls = value.get("urls") or []
    if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
        raise _fail(f"{where}.urls must be a list of strings")
    return Descriptor(
        media_type,
        digest,
        size,
        artifact_type,
        _string_map(value.get("annotations"), f"{where}.annotations"),
        platform,
        tuple(urls),
    )


def _media_type(document: dict[str, Any], content_type: str) -> str:
    declared = document.get("mediaType")
    if declared is not None and not isinstance(declared, str):
        raise _fail("mediaType must be a string")
    header = content_type.split(";", 1)[0].strip().lower()
    if header in DOCKER_SCHEMA1 or declared in DOCKER_SCHEMA1:
        raise _fail("Docker schema 1 manifests are not supported")
    if header not in GENERIC_TYPES:
        if declared and declared != header:
            raise _fail(f"mediaType {declared!r} does not match Content-Type {header!r}")
        chosen = header
    elif declared:
        chosen = declared
    else:
        chosen = OCI_INDEX if "manifests" in document else OCI_MANIFEST
    if chosen not in MANIFEST_TYPES:
        raise _fail(f"unsupported manifest media type {chosen[:100]!r}")
    return chosen


def parse_manifest(body: bytes, content_type: str = "") -> ParsedManifest:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise _fail("body is not valid JSON") from None
    if not isinstance(document, dict):
        raise _fail("body must be a JSON object")
    if document.get("schemaVersion") != 2 or isinstance(document.get("schemaVersion"), bool):
        raise _fail("schemaVersion must be 2")
    media_type = _media_type(document, content_type)
    artifact_type = document.get("artifactType", "")
    if not isinstance(artifact_type, str):
        raise _fail("artifactType must be a string")
    if artifact_type:
        _check_media_type(artifact_type, "artifactType")
    subject = (
        parse_descriptor(document["subject"], "subject")
        if document.get("subject") is not None
        else None
    )
    annotations = _string_map(document.get("annotations"), "annotations")
    common = {
        "media_type": media_type,
        "subject": subject,
        "artifact_type": artifact_type,
        "annotations": annotations,
        "raw": document,
    }
    if media_type in IMAGE_TYPES:
        return _image(document, common)
    return _index(document, common)


def _image(document: dict[str, Any], common: dict[str, Any]) -> ParsedManifest:
    if "manifests" in document:
        raise _fail("an image manifest cannot list manifests")
    config = parse_descriptor(document.get("config"), "config")
    layers = document.get("layers", [])
    if not isinstance(layers, list):
        raise _fail("layers must be a list")
    if common["media_type"] == DOCKER_MANIFEST and not layers:
        raise _fail("a Docker image manifest needs at least one layer")
    parsed = tuple(parse_descriptor(layer, f"layers[{i}]") for i, layer in enumerate(layers))
    return ParsedManifest(config=config, layers=parsed, **common)


def _index(document: dict[str, Any], common: dict[str, Any]) -> ParsedManifest:
    if "config" in document or "layers" in document:
        raise _fail("an index cannot have config or layers")
    children = document.get("manifests")
    if not isinstance(children, list):
        raise _fail("manifests must be a list")
    parsed = tuple(parse_descriptor(child, f"manifests[{i}]") for i, child in enumerate(children))
    if common["media_type"] == DOCKER_MANIFEST_LIST:
        for i, child in enumerate(parsed):
            if child.media_type not in MANIFEST_TYPES:
                raise _fail(f"manifests[{i}] is not a manifest")
    return ParsedManifest(manifests=parsed, **common)
