"""Clients of remote registries, one adapter class per endpoint type (Harbor's adapters).

:func:`adapter_for` builds the adapter of an :class:`Endpoint`; :data:`ADAPTER_TYPES` is the
list ``GET /replication/adapters`` answers.
"""

from __future__ import annotations

from harbor_api.adapters.base import (
    Adapter,
    AdapterError,
    AdapterInfo,
    Artifact,
    AuthenticationError,
    BlobReader,
    Credential,
    Endpoint,
    Manifest,
    ManifestHead,
    NotFoundOnRemoteError,
    Upload,
)
from harbor_api.adapters.distribution import DistributionAdapter
from harbor_api.adapters.harbor import HarborAdapter
from harbor_api.adapters.transport import RegistryTransport

ADAPTERS: dict[str, type[Adapter]] = {
    HarborAdapter.info.type: HarborAdapter,
    DistributionAdapter.info.type: DistributionAdapter,
}
ADAPTER_TYPES = sorted(ADAPTERS)


def adapter_for(endpoint: Endpoint, transport: RegistryTransport | None = None) -> Adapter:
    """The adapter of ``endpoint``; ``transport`` (see :mod:`.transport`) lends it pooled
    connections and cached tokens instead of its own."""
    try:
        cls = ADAPTERS[endpoint.type]
    except KeyError:
        raise AdapterError(
            f"unsupported registry type {endpoint.type!r}; supported: {', '.join(ADAPTER_TYPES)}"
        ) from None
    return cls(endpoint, transport)


def adapter_info(registry_type: str) -> AdapterInfo:
    return ADAPTERS[registry_type].info


__all__ = [
    "ADAPTERS",
    "ADAPTER_TYPES",
    "Adapter",
    "AdapterError",
    "AdapterInfo",
    "Artifact",
    "AuthenticationError",
    "BlobReader",
    "Credential",
    "Endpoint",
    "Manifest",
    "ManifestHead",
    "NotFoundOnRemoteError",
    "Upload",
    "adapter_for",
    "adapter_info",
]
