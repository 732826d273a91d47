"""This instance as the source of a push-mode copy: the read side of an adapter over the
database and the blob store, in process (no HTTP, no credentials).

``speed_kbps`` caps the bytes per second this source hands out, which caps the task.
"""

from __future__ import annotations

import time
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

PROGRESS_SECONDS = 1.0  # how often bytes read so far are reported


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
        self.rate = speed_kbps * 1024 if speed_kbps > 0 else 0
        self.bytes_read = 0
        self.progress = progress
        self._reported_at = time.monotonic()

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
            # paced: small reads, so the pace (and the progress) is even within a blob
            chunks = (
                self.storage.read(key, offset, chunk_size=max(1024, self.rate // 4))
                if self.rate
                else self.storage.read(key, offset)
            )
        except StorageNotFoundError:
            raise NotFoundOnRemoteError(f"blob {digest} is not here any more") from None
        yield BlobReader(size - offset, offset, self._paced(chunks))

    def _paced(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        started, sent = time.monotonic(), 0
        for chunk in chunks:
            sent += len(chunk)
            self.bytes_read += len(chunk)
            if self.progress and time.monotonic() - self._reported_at >= PROGRESS_SECONDS:
                self._reported_at = time.monotonic()
                self.progress(self.bytes_read)
            if self.rate:
                ahead = sent / self.rate - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
            yield chunk
