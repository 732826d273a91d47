"""This instance as the source of a push-mode copy: the read side of an adapter over the
database and the blob store, in process (no HTTP, no credentials).

``speed_kbps`` caps the bytes per second this source hands out, which caps the task.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import select

from harbor_api.adapters.base import (
    Adapter,
    BlobReader,
    Endpoint,
    Manifest,
    ManifestHead,
    NotFoundOnRemoteError,
)
from harbor_api.db.models import Blob
from harbor_api.db.session import Database
from harbor_api.registry import paths
from harbor_api.registry.storage.base import StorageDriver, StorageNotFoundError
from harbor_api.services.oci import artifacts
from harbor_api.services.replication.metering import Meter


class LocalSource(Adapter):
    def __init__(
        self,
        db: Database,
        storage: StorageDriver,
        speed_kbps: int = -1,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__(Endpoint("local", "harbor", False, None))
        self.db, self.storage = db, storage
        self.meter = Meter(speed_kbps, progress)

    def head_manifest(self, repository: str, reference: str) -> ManifestHead | None:
        with self.db.read() as s:
            found = artifacts.find_manifest(
                s, repository, reference, reference.startswith("sha256:")
            )
        if found is None:
            return None
        return ManifestHead(found.digest, found.media_type, found.size)

    def get_manifest(self, repository: str, reference: str) -> Manifest:
        head = self.head_manifest(repository, reference)
        if head is None:
            raise NotFoundOnRemoteError(f"{repository}:{reference} is not here any more")
        return Manifest(self.storage.get(paths.blob_key(head.digest)), head.media_type, head.digest)

    def blob_exists(self, repository: str, digest: str) -> bool:
        with self.db.read() as s:
            return s.scalar(select(Blob.id).where(Blob.digest == digest)) is not None

    @contextmanager
    def pull_blob(self, repository: str, digest: str, offset: int = 0) -> Iterator[BlobReader]:
        key = paths.blob_key(digest)
        try:
            size = self.storage.stat(key).size
            step = self.meter.slice_size  # paced: small reads, an even pace within a blob
            chunks = (
                self.storage.read(key, offset, chunk_size=step)
                if step
                else self.storage.read(key, offset)
            )
        except StorageNotFoundError:
            raise NotFoundOnRemoteError(f"blob {digest} is not here any more") from None
        yield BlobReader(size - offset, offset, self.meter.paced(chunks))
