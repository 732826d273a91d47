"""The storage side of blob upload sessions.

A session's bytes live at ``paths.upload_data_key(id)``; its offset lives in the database
(see ``harbor_api.services.oci.upload_records``), so any worker, before or after a restart, can
continue it. The running sha256 state cannot be persisted, so each process keeps the hashers
of the sessions it served last; a session that arrives without one (another worker, a
restart) is re-hashed from storage once, then continues incrementally.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections import OrderedDict
from typing import Protocol

from harbor_api.registry import paths
from harbor_api.registry.digest import DEFAULT_ALGORITHM, parse_digest
from harbor_api.registry.storage.base import StorageDriver, StorageNotFoundError, Writer

_CACHE_LIMIT = 512


class Hasher(Protocol):
    """A running ``hashlib`` hash."""

    def update(self, data: bytes | bytearray | memoryview, /) -> None: ...

    def hexdigest(self) -> str: ...


class Lock(Protocol):
    """A held storage lock (see ``StorageDriver.lock``)."""

    def release(self) -> None: ...


def new_upload_id() -> str:
    return uuid.uuid4().hex


class HasherCache:
    """Running hashers by session id, valid only at the offset they were saved at."""

    def __init__(self, limit: int = _CACHE_LIMIT) -> None:
        self._items: OrderedDict[str, tuple[int, Hasher]] = OrderedDict()
        self._lock = threading.Lock()
        self._limit = limit

    def take(self, upload_id: str, offset: int) -> Hasher | None:
        with self._lock:
            item = self._items.pop(upload_id, None)
        if item is not None and item[0] == offset:
            return item[1]
        return None

    def put(self, upload_id: str, offset: int, hasher: Hasher) -> None:
        with self._lock:
            self._items[upload_id] = (offset, hasher)
            self._items.move_to_end(upload_id)
            while len(self._items) > self._limit:
                self._items.popitem(last=False)

    def drop(self, upload_id: str) -> None:
        with self._lock:
            self._items.pop(upload_id, None)


class UploadFiles:
    def __init__(self, driver: StorageDriver) -> None:
        self.driver = driver
        self.hashers = HasherCache()

    def stored_size(self, upload_id: str) -> int | None:
        try:
            return self.driver.stat(paths.upload_data_key(upload_id)).size
        except StorageNotFoundError:
            return None

    def hasher_at(self, upload_id: str, offset: int, algorithm: str = DEFAULT_ALGORITHM) -> Hasher:
        """The hash state after the first ``offset`` bytes of the session."""
        if algorithm == DEFAULT_ALGORITHM:
            cached = self.hashers.take(upload_id, offset)
            if cached is not None:
                return cached
        hasher: Hasher = hashlib.new(algorithm)
        if offset:  # (a session at offset 0 may have no object yet)
            seen = 0
            for chunk in self.driver.read(
                paths.upload_data_key(upload_id), 0, offset, chunk_size=4 * 1024 * 1024
            ):
                hasher.update(chunk)
                seen += len(chunk)
            if seen < offset:  # the bytes are gone (moved under a blob key, or lost)
                raise StorageNotFoundError(paths.upload_data_key(upload_id))
        return hasher

    def appender(self, upload_id: str, offset: int) -> Writer:
        """A writer continuing the session at ``offset`` (bytes beyond it are dropped). The
        session's object is only created by its first chunk (offset 0), in place: its valid
        length is the offset in the database, so it needs no atomic rename."""
        key = paths.upload_data_key(upload_id)
        if offset == 0:
            return self.driver.in_place_writer(key)
        return self.driver.writer(key, resume_at=offset)

    def lock(self, upload_id: str) -> Lock:
        """The session's exclusive lock (see ``StorageDriver.lock``)."""
        lock: Lock = self.driver.lock(paths.upload_lock_key(upload_id))
        return lock

    def trim(self, upload_id: str, size: int) -> None:
        """Cut what lies beyond ``size`` (bytes of a request that died mid-write)."""
        stored = self.stored_size(upload_id)
        if stored is not None and stored > size:
            self.driver.writer(paths.upload_data_key(upload_id), resume_at=size).commit()

    def remember(self, upload_id: str, offset: int, hasher: Hasher) -> None:
        self.hashers.put(upload_id, offset, hasher)

    def final_digest(self, upload_id: str, size: int, expected: str, hasher: Hasher | None) -> str:
        """The session's digest in the algorithm of ``expected`` (re-hashing when needed)."""
        algorithm = parse_digest(expected).algorithm
        if algorithm != DEFAULT_ALGORITHM or hasher is None:
            hasher = self.hasher_at(upload_id, size, algorithm)
        return f"{algorithm}:{hasher.hexdigest()}"

    def discard(self, upload_id: str) -> None:
        self.hashers.drop(upload_id)
        for key in (paths.upload_data_key(upload_id), paths.upload_lock_key(upload_id)):
            try:
                self.driver.delete(key)
            except StorageNotFoundError:
                pass
