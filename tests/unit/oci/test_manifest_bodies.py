"""Remembered manifest bytes: the stored bytes, read from storage once, bounded in size."""

from __future__ import annotations

import hashlib

import pytest

from harbor_api.registry.blobs import BlobStore
from harbor_api.registry.storage.base import StorageNotFoundError
from harbor_api.registry.storage.filesystem import FilesystemDriver
from harbor_api.services.oci.manifest_bodies import ManifestBodies


def _put(blobs: BlobStore, data: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    blobs.put_verified(digest, data)
    return digest


def test_bytes_are_read_once_and_the_memory_is_bounded(tmp_path):
    blobs = BlobStore(FilesystemDriver(tmp_path))
    bodies = ManifestBodies(blobs, limit=3000)
    reads: list[str] = []
    real_get = blobs.get
    blobs.get = lambda digest: reads.append(digest) or real_get(digest)  # type: ignore[method-assign]
    first = _put(blobs, b"a" * 1000)
    assert bodies.get(first) == b"a" * 1000
    assert bodies.get(first) == b"a" * 1000 and reads == [first]
    for n in range(5):
        bodies.get(_put(blobs, bytes([n]) * 1000))
    assert bodies._size <= 3000
    with pytest.raises(StorageNotFoundError):
        bodies.get("sha256:" + "0" * 64)
