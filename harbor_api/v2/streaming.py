"""Moving bytes: request bodies into storage writers, storage readers into responses.

Blocking I/O and hashing run in worker threads. Small network chunks are batched so each
thread hop carries at least ``BATCH`` bytes, and the next batch is received while the
previous one is being hashed and written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from harbor_api.registry.storage.base import Writer
from harbor_api.v2.http import ClientDisconnectedError, Request, Responder

BATCH = 2 * 1024 * 1024
READ_CHUNK = 1024 * 1024


def _write_and_hash(writer: Writer, hasher, data: bytes | bytearray) -> None:
    hasher.update(data)
    writer.write(data)


async def receive_into(request: Request, writer: Writer, hasher) -> bool:
    """Stream the request body into ``writer`` while hashing it.

    Returns True when the body was complete, False when the client disconnected (what
    arrived has then been written; the caller decides whether to keep it)."""
    loop = asyncio.get_running_loop()
    pending: asyncio.Future | None = None
    buffer = bytearray()
    complete = True
    try:
        async for chunk in request.chunks():
            buffer += chunk
            if len(buffer) >= BATCH:
                if pending is not None:
                    await pending
                pending = loop.run_in_executor(None, _write_and_hash, writer, hasher, buffer)
                buffer = bytearray()
    except ClientDisconnectedError:
        complete = False
    finally:
        if pending is not None:
            await pending
    if buffer:
        await loop.run_in_executor(None, _write_and_hash, writer, hasher, buffer)
    return complete


async def send_chunks(responder: Responder, chunks: Iterator[bytes]) -> None:
    """Send a blocking chunk iterator as the response body (the response has started)."""
    loop = asyncio.get_running_loop()
    try:
        while True:
            chunk = await loop.run_in_executor(None, next, chunks, None)
            if chunk is None:
                break
            await responder.body(chunk, True)
        await responder.body(b"", False)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            await loop.run_in_executor(None, close)
