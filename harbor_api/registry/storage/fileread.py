"""Reading a large file region with several reads in flight.

A blob that is not in the page cache (pushed with direct I/O, or simply old) is read from
disk. One read at a time, even with the kernel's readahead, keeps the disk at a queue depth
of about one; on the virtual disks measured here that read 0.4-1.3 GB/s where four reads
in flight read 1.0-2.2 GB/s. So long reads keep ``DEPTH`` positional reads running in a
small shared thread pool (``os.pread`` releases the GIL) and hand the chunks out in order.
Memory per stream stays bounded at ``DEPTH`` chunks (the /v2 edge reads 1 MiB chunks).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import BinaryIO

#: Reads in flight per stream.
DEPTH = 4
#: Streams shorter than this many chunks are read one chunk at a time.
_PREFETCH_FROM = 4

_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="blob-read")


def read_region(
    handle: BinaryIO, offset: int, length: int | None, chunk_size: int
) -> Iterator[bytes]:
    """Yield the bytes of the open file ``handle`` from ``offset`` (``length`` bytes, or to
    the end) in ``chunk_size`` pieces, then close it. Closing the iterator early closes the
    file after the reads in flight have finished (an iterator never started leaves the
    closing to the file object)."""
    with handle:
        fd = handle.fileno()
        end = os.fstat(fd).st_size
        if length is not None:
            end = min(end, offset + length)
        if end - offset < _PREFETCH_FROM * chunk_size:
            yield from _one_at_a_time(fd, offset, end, chunk_size)
        else:
            yield from _prefetching(fd, offset, end, chunk_size)


def _one_at_a_time(fd: int, position: int, end: int, chunk_size: int) -> Iterator[bytes]:
    while position < end:
        chunk = os.pread(fd, min(chunk_size, end - position), position)
        if not chunk:  # the file shrank under us: stop at what exists
            return
        position += len(chunk)
        yield chunk


def _prefetching(fd: int, position: int, end: int, chunk_size: int) -> Iterator[bytes]:
    inflight: deque[tuple[int, int, Future[bytes]]] = deque()
    try:
        while position < end or inflight:
            while position < end and len(inflight) < DEPTH:
                want = min(chunk_size, end - position)
                inflight.append((position, want, _pool.submit(os.pread, fd, want, position)))
                position += want
            start, want, future = inflight.popleft()
            chunk = future.result()
            if len(chunk) < want:  # short read: finish this piece in line
                rest = _complete(fd, start + len(chunk), want - len(chunk))
                if rest is None:
                    if chunk:
                        yield chunk
                    return
                chunk += rest
            yield chunk
    finally:
        for _, _, future in inflight:  # never close fd under a running read
            future.cancel()
        for _, _, future in inflight:
            if not future.cancelled():
                try:
                    future.result()
                except OSError:
                    pass


def _complete(fd: int, position: int, missing: int) -> bytes | None:
    """The ``missing`` bytes at ``position``, or None when the file ends before them."""
    parts = []
    while missing:
        part = os.pread(fd, missing, position)
        if not part:
            return None
        parts.append(part)
        position += len(part)
        missing -= len(part)
    return b"".join(parts)
