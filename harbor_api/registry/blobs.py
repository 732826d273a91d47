"""Content-addressed blob storage over a driver: each digest is stored once.

A blob key is written only with content whose digest was verified, so whatever sits under a
blob key is trustworthy. Whether a blob is *visible* in a repository is the database's call.
"""

from __future__ import annotations

from collections.abc import Iterator

from harbor_api.registry import paths
from harbor_api.registry.storage.base import (
    DEFAULT_CHUNK,
    StorageDriver,
    StorageNotFoundError,
    Writer,
)


class BlobStore:
    def __init__(self, driver: StorageDriver) -> None:
        self.driver = driver

    def exists(self, digest: str) -> bool:
        return self.driver.exists(paths.blob_key(digest))

    def size(self, digest: str) -> int | None:
        try:
            return self.driver.stat(paths.blob_key(digest)).size
        except StorageNotFoundError:
            return None

    def read(
        self,
        digest: str,
        offset: int = 0,
        length: int | None = None,
        chunk_size: int = DEFAULT_CHUNK,
    ) -> Iterator[bytes]:
        return self.driver.read(paths.blob_key(digest), offset, length, chunk_size)

    def get(self, digest: str) -> bytes:
        return self.driver.get(paths.blob_key(digest))

    def writer(self, digest: str) -> Writer:
        """A writer for content claimed to be ``digest``: it writes a temporary object that
        replaces the blob key only on ``commit()``, which the caller makes only once the
        content matched the digest."""
        return self.driver.writer(paths.blob_key(digest))

    def put_verified(self, digest: str, data: bytes) -> None:
        """Store small content (a manifest) whose digest the caller has just computed."""
        key = paths.blob_key(digest)
        if not self.driver.exists(key):
            self.driver.put(key, data)

    def adopt(self, source_key: str, digest: str) -> None:
        """Move verified content (a finished upload) under its blob key; when the blob is
        already stored, the duplicate is simply dropped."""
        key = paths.blob_key(digest)
        if self.driver.exists(key):
            self.driver.delete(source_key)
        else:
            self.driver.move(source_key, key)
