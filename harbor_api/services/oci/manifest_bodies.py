"""A bounded memory of manifest bytes by digest, for pulls.

Content under a digest never changes, so remembered bytes are always the right ones; whether
the manifest may be served (it exists, in that repository, for that caller) is still the
database's answer on every pull. Bounded in bytes so a worker's memory stays flat.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from harbor_api.registry.blobs import BlobStore

#: Total bytes kept (small manifests are a few KiB: thousands of them fit).
DEFAULT_BYTES = 8 * 1024 * 1024
#: Larger manifests (big indexes) are read from storage each time.
LARGEST = 256 * 1024


class ManifestBodies:
    def __init__(self, blobs: BlobStore, limit: int = DEFAULT_BYTES) -> None:
        self.blobs = blobs
        self.limit = limit
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, digest: str) -> bytes:
        """The bytes of ``digest`` (raises the storage's not-found error when absent)."""
        with self._lock:
            body = self._entries.get(digest)
            if body is not None:
                self._entries.move_to_end(digest)
                return body
        body = self.blobs.get(digest)
        if len(body) <= LARGEST:
            with self._lock:
                if digest not in self._entries:
                    self._entries[digest] = body
                    self._size += len(body)
                while self._size > self.limit:
                    _, dropped = self._entries.popitem(last=False)
                    self._size -= len(dropped)
        return body
