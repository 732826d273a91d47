"""Moving bytes: request bodies into storage writers, storage readers into responses.

Blocking I/O and hashing run in worker threads. Small network chunks are batched so each
thread hop carries at least ``BATCH`` bytes, and the next batch is received while the
previous one is being hashed and written.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from harbor_api.registry.storage.base import Writer
from harbor_api.v2.http import ClientDisconnectedError, Request, Responder

BATCH = 1024 * 1024
READ_CHUNK = 1024 * 1024


async def receive_into(request: Request, writer: Writer, hasher) -> bool:
    """Stream the request body into ``writer`` while hashing it.

    Each batch is hashed and written by two worker threads at once (both release the GIL)
    while the event loop receives the next batch. Returns True when the body was complete,
    False when the client disconnected (what arrived has then been written; the caller
    decides whether to keep it)."""
    loop = asyncio.get_running_loop()
    pending: tuple[asyncio.Future, asyncio.Future] | None = None
    buffer = bytearray()
    complete = True

    async def settle() -> None:
        nonlocal pending
        if pending is not None:
            waiting, pending = pending, None
            await asyncio.gather(*waiting)

    try:
        async for chunk in request.chunks():
            if buffer or len(chunk) < BATCH:
                buffer += chunk
                if len(buffer) < BATCH:
                    continue
                batch, buffer = buffer, bytearray()
            else:  # already big enough: no copy
                batch = chunk
            await settle()
            pending = (loop.run_in_executor(None, hasher.update, batch),
                       loop.run_in_executor(None, writer.write, batch))
    except ClientDisconnectedError:
        complete = False
    finally:
        await settle()
    if buffer:
        pending = (loop.run_in_executor(None, hasher.update, buffer),
                   loop.run_in_executor(None, writer.write, buffer))
        await settle()
    return complete


async def send_chunks(responder: Responder, chunks: Iterator[bytes]) -> None:
    """Send a blocking chunk iterator as the response body (the response has started).

    The next chunk is read in a worker thread while the current one is being sent, so a
    blob that is not in the page cache streams at the disk's pace and the network's, not
    at the sum of both latencies."""
    loop = asyncio.get_running_loop()
    pending: asyncio.Future | None = loop.run_in_executor(None, next, chunks, None)
    try:
        while True:
            chunk = await pending
            pending = None
            if chunk is None:
                break
            pending = loop.run_in_executor(None, next, chunks, None)
            await responder.body(chunk, True)
        await responder.body(b"", False)
    finally:
        if pending is not None:  # the client went away mid-body: let the read finish first
            with contextlib.suppress(Exception):
                await asyncio.shield(pending)
        close = getattr(chunks, "close", None)
        if close is not None:
            await loop.run_in_executor(None, close)
