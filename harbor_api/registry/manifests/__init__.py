"""Manifest parsing and validation for OCI and Docker schema 2 manifests and indexes."""

from harbor_api.registry.manifests.media_types import (  # noqa: F401
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    INDEX_TYPES,
    MANIFEST_TYPES,
    OCI_INDEX,
    OCI_MANIFEST,
)
from harbor_api.registry.manifests.parse import (  # noqa: F401
    Descriptor,
    ParsedManifest,
    parse_manifest,
)

__all__ = [
    "DOCKER_MANIFEST",
    "DOCKER_MANIFEST_LIST",
    "INDEX_TYPES",
    "MANIFEST_TYPES",
    "OCI_INDEX",
    "OCI_MANIFEST",
    "Descriptor",
    "ParsedManifest",
    "parse_manifest",
]
