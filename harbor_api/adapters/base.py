"""What every registry adapter offers, and the plain values it deals in.

An adapter is the client side of one remote registry endpoint: the replication jobs and
proxy-cache projects call it, never HTTP directly. Everything here streams: a blob is an
iterator of chunks from the source response straight into the destination request, never
a ``bytes`` of the whole blob.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Credential:
    """``type`` is ``basic``: ``access_key`` a user (or robot) name, ``access_secret`` its
    password or token."""

    type: str = "basic"
    access_key: str = ""
    access_secret: str = ""

    def __repr__(self) -> str:  # a secret never reaches a log through a repr
        return f"Credential(type={self.type!r}, access_key={self.access_key!r})"


@dataclass(frozen=True)
class Endpoint:
    url: str  # scheme://host[:port], no trailing slash
    type: str
    insecure: bool = False  # do not verify the server's certificate
    credential: Credential | None = None


@dataclass(frozen=True)
class FilterStyle:
    type: str
    style: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class AdapterInfo:
    """Harbor's RegistryInfo plus the provider patterns of ``/replication/adapterinfos``."""

    type: str
    description: str
    supported_resource_filters: tuple[FilterStyle, ...]
    supported_triggers: tuple[str, ...]
    endpoint_type: str = "EndpointPatternTypeStandard"
    credential_key_type: str = "AccessKeyTypeStandard"
    credential_secret_type: str = "AccessSecretTypeStandard"


@dataclass(frozen=True)
class Manifest:
    content: bytes
    media_type: str
    digest: str


@dataclass(frozen=True)
class ManifestHead:
    digest: str
    media_type: str
    size: int


@dataclass(frozen=True)
class Artifact:
    """One manifest of a repository and the tags that point at it."""

    repository: str
    digest: str
    media_type: str = ""
    tags: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()


@dataclass
class BlobReader:
    """An open blob download: ``size`` bytes from ``offset``, read by iterating ``chunks``."""

    size: int
    offset: int
    chunks: Iterator[bytes]


@dataclass
class Upload:
    """An upload session on the destination: ``location`` is absolute; ``offset`` the bytes
    the server acknowledged."""

    repository: str
    location: str
    offset: int = 0
    extra: dict[str, str] = field(default_factory=dict)


BlobSource = Callable[[int], AbstractContextManager[BlobReader]]
"""Opens a blob at a byte offset (for resuming a chunked upload where the server stopped)."""


class AdapterError(Exception):
    """The remote registry failed or refused; ``message`` says why in words an operator can
    act on (it never contains a secret)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class AuthenticationError(AdapterError):
    """The endpoint refused the credential (or demands one that was not given)."""


class NotFoundOnRemoteError(AdapterError):
    """The repository, manifest or blob does not exist on the remote side."""


class Adapter:
    """The operations replication needs from a registry. Subclasses implement them for one
    kind of endpoint (``docker-registry``: the Distribution API only; ``harbor``: the same
    plus Harbor's management API)."""

    info: AdapterInfo

    def __init__(self, endpoint: Endpoint, transport: Any = None) -> None:
        """``transport``: a shared :class:`~.transport.RegistryTransport` for the adapters
        that speak HTTP (the others ignore it)."""
        self.endpoint = endpoint

    def close(self) -> None:
        """Release connections."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- health -----------------------------------------------------------------------
    def health_check(self) -> None:
        """Raise :class:`AdapterError` (or a subclass) saying why the endpoint is unusable."""
        raise NotImplementedError

    # -- listing ----------------------------------------------------------------------
    def list_namespaces(self, pattern: str | None = None) -> list[str]:
        raise NotImplementedError

    def list_repositories(self, pattern: str | None = None) -> list[str]:
        raise NotImplementedError

    def list_tags(self, repository: str, pattern: str | None = None) -> list[str]:
        raise NotImplementedError

    def list_artifacts(self, repository: str, tag_pattern: str | None = None) -> list[Artifact]:
        raise NotImplementedError

    def create_namespace(self, name: str) -> bool:
        """Make sure ``name`` exists on the endpoint; True if it was created."""
        raise NotImplementedError

    def prepare_push(self, repository: str) -> None:
        """A copy into ``repository`` starts (an adapter may ask for push access up front)."""

    # -- manifests --------------------------------------------------------------------
    def head_manifest(self, repository: str, reference: str) -> ManifestHead | None:
        raise NotImplementedError

    def get_manifest(self, repository: str, reference: str) -> Manifest:
        raise NotImplementedError

    def put_manifest(self, repository: str, reference: str, content: bytes, media_type: str) -> str:
        raise NotImplementedError

    def delete_manifest(self, repository: str, digest: str) -> None:
        raise NotImplementedError

    def delete_tag(self, repository: str, tag: str) -> None:
        raise NotImplementedError

    # -- blobs ------------------------------------------------------------------------
    def blob_exists(self, repository: str, digest: str) -> bool:
        raise NotImplementedError

    def mount_blob(self, repository: str, digest: str, from_repository: str) -> bool:
        raise NotImplementedError

    def pull_blob(
        self, repository: str, digest: str, offset: int = 0
    ) -> AbstractContextManager[BlobReader]:
        raise NotImplementedError

    def push_blob(self, repository: str, digest: str, size: int, chunks: Iterable[bytes]) -> None:
        raise NotImplementedError

    def push_blob_chunked(
        self,
        repository: str,
        digest: str,
        size: int,
        source: BlobSource,
        chunk_size: int,
        upload: Upload | None = None,
        on_chunk: Callable[[Upload], None] | None = None,
    ) -> int:
        """Upload in chunks; ``upload`` (an interrupted session) continues where the
        destination says it stopped; ``on_chunk`` hears of each acknowledged chunk.
        Returns the offset the upload continued from (0: started over)."""
        raise NotImplementedError
