"""A storage driver on a local directory.

Writes are atomic: new content goes to a temporary file beside its key, is fsync'd and then
renamed into place, and the directory is fsync'd so the rename survives a crash.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import stat as stat_module
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from harbor_api.registry.storage.base import (
    DEFAULT_CHUNK,
    StatInfo,
    StorageBusyError,
    StorageDriver,
    StorageError,
    StorageNotFoundError,
    Writer,
)
from harbor_api.registry.storage.fileread import read_region
from harbor_api.registry.storage.filesink import FileSink

_TEMP_MARK = ".tmp-"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _make_dirs(path: Path) -> None:
    """``mkdir -p`` whose new entries are durable: each created directory's parent is
    fsync'd, so a crash cannot lose the directory an fsync'd file was renamed into."""
    if path.is_dir():
        return
    _make_dirs(path.parent)
    try:
        path.mkdir()
    except FileExistsError:
        return
    _fsync_dir(path.parent)


class _FileWriter(Writer):
    """An open file written through a :class:`FileSink`. Commit flushes, fsyncs and closes
    it, then :meth:`_published` makes it visible; cancel closes it after :meth:`_discard`."""

    def __init__(self, handle: BinaryIO, start: int) -> None:
        self._file: BinaryIO | None = handle
        self._sink = FileSink(handle.fileno(), start)

    @property
    def size(self) -> int:
        return self._sink.size

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert self._file is not None, "writer already closed"
        self._sink.write(data)

    def commit(self) -> None:
        if self._file is None:
            return
        self._sink.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._file = None
        self._published()

    def cancel(self) -> None:
        if self._file is not None:
            self._sink.close()
            self._discard(self._file)
            self._file.close()
            self._file = None

    def _published(self) -> None:
        """After the data is durable."""

    def _discard(self, handle: BinaryIO) -> None:
        """Undo what this writer wrote (the file is still open)."""


class _NewFileWriter(_FileWriter):
    """Writes a temporary file; commit renames it onto the key."""

    def __init__(self, target: Path) -> None:
        _make_dirs(target.parent)
        self._target = target
        self._temp = target.with_name(f"{target.name}{_TEMP_MARK}{uuid.uuid4().hex}")
        super().__init__(open(self._temp, "xb", buffering=0), 0)  # noqa: SIM115

    def _published(self) -> None:
        os.replace(self._temp, self._target)
        _fsync_dir(self._target.parent)

    def _discard(self, handle: BinaryIO) -> None:
        self._temp.unlink(missing_ok=True)


class _AppendWriter(_FileWriter):
    """Appends to an existing file after truncating it; cancel truncates back."""

    def __init__(self, target: Path, resume_at: int) -> None:
        try:
            handle = open(target, "r+b", buffering=0)  # noqa: SIM115
        except FileNotFoundError:
            raise StorageNotFoundError(str(target)) from None
        length = os.fstat(handle.fileno()).st_size
        if resume_at > length:
            handle.close()
            raise StorageError(f"cannot resume at {resume_at}: only {length} bytes stored")
        handle.truncate(resume_at)
        self._start = resume_at
        super().__init__(handle, resume_at)

    def _discard(self, handle: BinaryIO) -> None:
        handle.truncate(self._start)


class _InPlaceWriter(_FileWriter):
    """Creates (or empties) the file itself; commit makes the data and the directory entry
    durable, cancel removes the file."""

    def __init__(self, target: Path) -> None:
        _make_dirs(target.parent)
        self._target = target
        super().__init__(open(target, "wb", buffering=0), 0)  # noqa: SIM115

    def _published(self) -> None:
        _fsync_dir(self._target.parent)

    def _discard(self, handle: BinaryIO) -> None:
        self._target.unlink(missing_ok=True)


class _FileLock:
    """An flock(2) held through an open descriptor; closing it releases the lock."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class FilesystemDriver(StorageDriver):
    name = "filesystem"

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        parts = key.strip("/").split("/")
        if not key or any(p in ("", ".", "..") or _TEMP_MARK in p for p in parts):
            raise ValueError(f"invalid storage key {key!r}")
        return self.root.joinpath(*parts)

    def put(self, key: str, source: Iterable[bytes] | BinaryIO | bytes) -> int:
        writer = _NewFileWriter(self._path(key))
        try:
            if isinstance(source, bytes | bytearray | memoryview):
                writer.write(source)
            elif hasattr(source, "read"):
                while chunk := source.read(DEFAULT_CHUNK):
                    writer.write(chunk)
            else:
                for chunk in source:
                    writer.write(chunk)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        return writer.size

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise StorageNotFoundError(key) from None

    def read(
        self, key: str, offset: int = 0, length: int | None = None, chunk_size: int = DEFAULT_CHUNK
    ) -> Iterator[bytes]:
        try:
            handle = open(self._path(key), "rb", buffering=0)  # noqa: SIM115
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise StorageNotFoundError(key) from None
        return read_region(handle, offset, length, chunk_size)

    def writer(self, key: str, resume_at: int | None = None) -> Writer:
        path = self._path(key)
        if resume_at is None:
            return _NewFileWriter(path)
        return _AppendWriter(path, resume_at)

    def in_place_writer(self, key: str) -> Writer:
        return _InPlaceWriter(self._path(key))

    def lock(self, key: str) -> _FileLock:
        path = self._path(key)
        _make_dirs(path.parent)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # per open file: threads too
        except BlockingIOError:
            os.close(fd)
            raise StorageBusyError(key) from None
        return _FileLock(fd)

    def remove_stale_temporaries(self, prefix: str, older_than: float) -> int:
        removed = 0
        for directory, _, names in os.walk(self._path(prefix)):
            for name in names:
                if _TEMP_MARK not in name:
                    continue
                path = os.path.join(directory, name)
                try:
                    if os.stat(path).st_mtime < older_than:
                        os.unlink(path)
                        removed += 1
                except FileNotFoundError:  # committed or cancelled meanwhile
                    pass
        return removed

    def stat(self, key: str) -> StatInfo:
        try:
            info = self._path(key).stat()
        except (FileNotFoundError, NotADirectoryError):
            raise StorageNotFoundError(key) from None
        return StatInfo(
            key=key.strip("/"),
            size=info.st_size,
            modified=info.st_mtime,
            is_dir=stat_module.S_ISDIR(info.st_mode),
        )

    def list(self, prefix: str) -> list[str]:
        base = prefix.strip("/")
        try:
            names = os.listdir(self._path(base)) if base else os.listdir(self.root)
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(f"{base}/{n}" if base else n for n in names if _TEMP_MARK not in n)

    def move(self, source: str, destination: str) -> None:
        src, dst = self._path(source), self._path(destination)
        if not src.exists():
            raise StorageNotFoundError(source)
        _make_dirs(dst.parent)
        os.replace(src, dst)
        _fsync_dir(dst.parent)

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
        except FileNotFoundError:
            raise StorageNotFoundError(key) from None
