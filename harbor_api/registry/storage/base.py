"""The storage driver interface every backend implements (filesystem now, S3 later).

Keys are relative ``/``-separated strings built by :mod:`harbor_api.registry.paths`. Nothing
above this interface may assume a local path. Methods are blocking: callers on the event loop
run them in a worker thread. Every driver must pass ``tests/unit/registry/driver_suite.py``.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import BinaryIO, Protocol

DEFAULT_CHUNK = 1024 * 1024


class StorageError(Exception):
    """A storage operation failed (I/O error, backend unavailable)."""


class StorageNotFoundError(StorageError):
    def __init__(self, key: str) -> None:
        super().__init__(f"no such key: {key}")
        self.key = key


class StorageBusyError(StorageError):
    """Another holder has the lock on this key."""


class Lock(Protocol):
    """What :meth:`StorageDriver.lock` returns: held until :meth:`release`."""

    def release(self) -> None: ...


class NoLock:
    """The lock of a driver without locking: nothing to release."""

    def release(self) -> None:
        return None


@dataclass(frozen=True)
class StatInfo:
    key: str
    size: int
    modified: float  # seconds since the epoch
    is_dir: bool = False


class Writer(abc.ABC):
    """An appending writer. Bytes are durable and visible under the key only after
    :meth:`commit`; :meth:`cancel` discards what this writer wrote."""

    @property
    @abc.abstractmethod
    def size(self) -> int:
        """Total size of the content under the key, including what was there before."""

    @abc.abstractmethod
    def write(self, data: bytes | bytearray | memoryview) -> None: ...

    @abc.abstractmethod
    def commit(self) -> None: ...

    @abc.abstractmethod
    def cancel(self) -> None: ...

    def __enter__(self) -> Writer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.cancel()


class StorageDriver(abc.ABC):
    name = "abstract"

    @abc.abstractmethod
    def put(self, key: str, source: Iterable[bytes] | BinaryIO | bytes) -> int:
        """Store ``source`` under ``key`` atomically (all or nothing); return the size."""

    @abc.abstractmethod
    def get(self, key: str) -> bytes:
        """The whole content (for small objects such as manifests)."""

    @abc.abstractmethod
    def read(
        self, key: str, offset: int = 0, length: int | None = None, chunk_size: int = DEFAULT_CHUNK
    ) -> Iterator[bytes]:
        """Stream ``length`` bytes (default: to the end) starting at ``offset``.

        The object is opened before the first chunk is requested, so a missing key raises
        :class:`StorageNotFoundError` from this call, not from iteration."""

    @abc.abstractmethod
    def writer(self, key: str, resume_at: int | None = None) -> Writer:
        """A writer for ``key``: new content when ``resume_at`` is None, else append to the
        existing content after truncating it to ``resume_at`` bytes."""

    def in_place_writer(self, key: str) -> Writer:
        """A writer creating (or emptying) ``key`` in place, for objects whose valid length
        is recorded elsewhere (an upload session's offset lives in the database): the object
        may be seen partially written before :meth:`Writer.commit`, which makes what was
        written durable; :meth:`Writer.cancel` removes it. Drivers without a cheaper way
        use the atomic writer."""
        return self.writer(key)

    def lock(self, key: str) -> Lock:
        """An exclusive lock on ``key``, taken without waiting (creating an empty object when
        there is none) and held until its ``release()``; raises :class:`StorageBusyError`
        when another holder, in this process or another, has it. It serialises the writers
        of one upload session. This default locks nothing: a driver whose storage several
        nodes share must provide a real one."""
        return NoLock()

    def remove_stale_temporaries(self, prefix: str, older_than: float) -> int:
        """Remove the temporary objects under ``prefix`` (a write a crash interrupted) last
        modified before ``older_than`` (seconds since the epoch); return how many. Drivers
        whose writes leave no temporary objects have nothing to do."""
        return 0

    @abc.abstractmethod
    def stat(self, key: str) -> StatInfo:
        """Size and time of ``key``; raises :class:`StorageNotFoundError`."""

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
        except StorageNotFoundError:
            return False
        return True

    @abc.abstractmethod
    def list(self, prefix: str) -> list[str]:
        """Keys of the direct children of ``prefix`` (sorted); [] when there are none."""

    @abc.abstractmethod
    def move(self, source: str, destination: str) -> None:
        """Atomically rename; replaces ``destination`` when it exists."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Delete the object or the whole prefix; raises :class:`StorageNotFoundError`."""

    def walk(self, prefix: str) -> Iterator[str]:
        """Every object key under ``prefix``, depth first."""
        for child in self.list(prefix):
            if self.stat(child).is_dir:
                yield from self.walk(child)
            else:
                yield child
