"""The filesystem driver's bulk I/O: FileSink (direct I/O for the aligned bulk, page cache
for the rest) and read_region (several reads in flight), on the real filesystem."""

from __future__ import annotations

import ctypes
import errno
import mmap
import os
import random
import time

import pytest

from harbor_api.registry.storage import filesink
from harbor_api.registry.storage.fileread import read_region
from harbor_api.registry.storage.filesink import ALIGN, STAGE, FileSink

MiB = 1024 * 1024


def _payload(size: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


def _write(path, pieces, start: int = 0, direct: bool = True) -> FileSink:
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        sink = FileSink(fd, start, direct=direct)
        for piece in pieces:
            sink.write(piece)
        sink.flush()
        os.fsync(fd)
    finally:
        os.close(fd)
    return sink


def _split(data: bytes, sizes) -> list[bytes]:
    pieces, at = [], 0
    for size in sizes:
        pieces.append(data[at : at + size])
        at += size
    if at < len(data):
        pieces.append(data[at:])
    return pieces


def _cached_bytes(path) -> int:
    """Bytes of ``path`` resident in the page cache (mincore(2) over a read-only mapping)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_long,
    ]
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    size = os.path.getsize(path)
    pages = (size + mmap.PAGESIZE - 1) // mmap.PAGESIZE
    vector = (ctypes.c_ubyte * pages)()
    fd = os.open(path, os.O_RDONLY)
    try:
        address = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
        assert address not in (None, ctypes.c_void_p(-1).value)
        try:
            assert libc.mincore(address, size, vector) == 0, os.strerror(ctypes.get_errno())
        finally:
            libc.munmap(address, size)
    finally:
        os.close(fd)
    return sum(page & 1 for page in vector) * mmap.PAGESIZE


@pytest.mark.parametrize(
    "sizes",
    [
        [],  # nothing at all
        [1],  # less than a block
        [ALIGN],  # exactly a block
        [STAGE],  # exactly one stage
        [STAGE - 1, 2],  # a stage boundary inside a write
        [3 * STAGE + 5],  # several stages and an unaligned tail
        [65536] * 200,  # network-sized pieces
        [1, 4095, 4097, 1 << 20, 3, STAGE],  # anything goes
    ],
)
@pytest.mark.parametrize("direct", [True, False], ids=["direct", "page-cache"])
def test_sink_writes_exactly_what_it_was_given(tmp_path, sizes, direct):
    data = _payload(sum(sizes) + (STAGE + 123 if sizes else 0))
    path = tmp_path / "blob"
    sink = _write(path, _split(data, sizes), direct=direct)
    assert sink.size == len(data)
    assert path.read_bytes() == data


@pytest.mark.parametrize("resume_at", [0, 1, ALIGN - 1, ALIGN, STAGE + 17])
def test_sink_resumes_at_any_offset(tmp_path, resume_at):
    """A chunked upload continues its file wherever the last chunk ended (aligned or not)."""
    first = _payload(resume_at, seed=1)
    second = _payload(2 * STAGE + 999, seed=2)
    path = tmp_path / "session"
    path.write_bytes(first)
    sink = _write(path, _split(second, [100, STAGE, 5]), start=resume_at)
    assert sink.size == resume_at + len(second)
    assert path.read_bytes() == first + second


def test_sink_bulk_bypasses_the_page_cache(tmp_path):
    """The point of the sink: the aligned bulk of a large blob goes straight to disk."""
    path = tmp_path / "big"
    _write(path, _split(_payload(8 * STAGE), [MiB] * 32))
    assert _cached_bytes(path) <= STAGE  # at most the staged tail went through the cache


@pytest.mark.parametrize("piece", [MiB, 3 * MiB // 2], ids=["stage-aligned", "straddling"])
def test_sink_falls_back_to_the_page_cache_when_direct_io_is_refused(tmp_path, monkeypatch, piece):
    """A filesystem without O_DIRECT (tmpfs on older kernels) refuses the flag with EINVAL;
    no such filesystem is mountable here, so the refusal is simulated at fcntl. Pieces that
    straddle stages, arriving while the refused background write fails, must still land in
    order (the refusal is acted on by the writing thread only)."""
    real_fcntl = filesink.fcntl.fcntl

    def refusing(fd, command, *args):
        if command == filesink.fcntl.F_SETFL and args and args[0] & filesink._O_DIRECT:
            raise OSError(errno.EINVAL, "direct I/O not supported")
        return real_fcntl(fd, command, *args)

    monkeypatch.setattr(filesink.fcntl, "fcntl", refusing)
    data = _payload(3 * STAGE + 77)
    path = tmp_path / "fallback"
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        sink = FileSink(fd, 0)
        for chunk in _split(data, [piece] * (len(data) // piece)):
            sink.write(chunk)
            time.sleep(0.002)  # let the background write fail before the next piece
        sink.flush()
    finally:
        os.close(fd)
    assert path.read_bytes() == data
    assert sink._direct is False


def test_sink_close_without_flush_releases_everything(tmp_path):
    fd = os.open(tmp_path / "cancelled", os.O_RDWR | os.O_CREAT)
    try:
        sink = FileSink(fd, 0)
        sink.write(_payload(STAGE + MiB))  # one stage in flight, one being filled
        sink.close()
        assert sink._stage is None and sink._spare is None and sink._inflight is None
    finally:
        os.close(fd)


@pytest.mark.parametrize(
    ("offset", "length"),
    [
        (0, None),
        (0, 10),
        (5, None),
        (3 * MiB + 1, 9 * MiB),
        (16 * MiB - 3, None),
        (0, 64 * MiB),  # longer than the file: stops at its end
    ],
)
def test_read_region_returns_the_requested_bytes(tmp_path, offset, length):
    data = _payload(16 * MiB)
    path = tmp_path / "blob"
    path.write_bytes(data)
    end = len(data) if length is None else offset + length
    chunks = list(read_region(open(path, "rb", buffering=0), offset, length, MiB))
    assert b"".join(chunks) == data[offset:end]
    assert all(len(chunk) <= MiB for chunk in chunks)


def test_read_region_closed_early_closes_the_file(tmp_path):
    path = tmp_path / "blob"
    path.write_bytes(_payload(16 * MiB))
    handle = open(path, "rb", buffering=0)  # noqa: SIM115
    chunks = read_region(handle, 0, None, MiB)
    assert len(next(chunks)) == MiB  # prefetching: several reads are in flight now
    chunks.close()
    assert handle.closed
