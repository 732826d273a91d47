"""Moving a byte stream into a storage writer while hashing it, for any source: a request
body, a replication source's response, a file.

Blocking I/O and hashing run in worker threads. Small chunks are batched so each thread hop
carries at least ``BATCH`` bytes, and the next batch is received while the previous one is
being hashed and written (both release the GIL).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any

from harbor_api.registry.storage.base import Writer
from harbor_api.registry.upload_files import Hasher

BATCH = 1024 * 1024


ByteSource = AsyncIterable[bytes] | Iterable[bytes]


async def _from_blocking(chunks: Iterable[bytes]) -> AsyncIterator[bytes]:
    """A blocking iterator's chunks, each ``next`` in a worker thread."""
    loop = asyncio.get_running_loop()
    iterator: Iterator[bytes] = iter(chunks)
    while True:
        chunk = await loop.run_in_executor(None, next, iterator, None)
        if chunk is None:
            return
        yield chunk


def as_async(chunks: ByteSource) -> AsyncIterable[bytes]:
    if isinstance(chunks, AsyncIterable):
        return chunks
    if isinstance(chunks, (bytes, bytearray, memoryview)):
        raise TypeError("a byte source is an iterable of chunks, not one bytes object")
    return _from_blocking(chunks)


async def write_stream(chunks: ByteSource, writer: Writer, hasher: Hasher) -> None:
    """Write every chunk of ``chunks`` to ``writer`` and feed it to ``hasher``. An error of
    the source propagates once what arrived before it has been written (the caller decides
    whether to keep it: commit or cancel the writer)."""
    loop = asyncio.get_running_loop()
    pending: tuple[asyncio.Future[Any], asyncio.Future[Any]] | None = None
    buffer = bytearray()

    async def settle() -> None:
        nonlocal pending
        if pending is not None:
            waiting, pending = pending, None
            await asyncio.gather(*waiting)

    iterator = aiter(as_async(chunks))
    failure: Exception | None = None
    try:
        while True:
            try:
                chunk = await anext(iterator)
            except StopAsyncIteration:
                break
            except Exception as exc:  # the source failed (a client went away): keep what came
                failure = exc
                break
            batch: bytes | bytearray
            if buffer or len(chunk) < BATCH:
                buffer += chunk
                if len(buffer) < BATCH:
                    continue
                batch, buffer = buffer, bytearray()
            else:  # already big enough: no copy
                batch = chunk
            await settle()
            pending = (
                loop.run_in_executor(None, hasher.update, batch),
                loop.run_in_executor(None, writer.write, batch),
            )
    finally:
        await settle()
    if buffer:
        pending = (
            loop.run_in_executor(None, hasher.update, buffer),
            loop.run_in_executor(None, writer.write, buffer),
        )
        await settle()
    if failure is not None:
        raise failure
