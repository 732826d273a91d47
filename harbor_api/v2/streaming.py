"""Moving bytes: request bodies into storage writers, storage readers into responses.

Blocking I/O runs in worker threads; the next chunk is read or received while the previous
one is being sent or written.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from harbor_api.registry.storage.base import Writer
from harbor_api.registry.upload_files import Hasher
from harbor_api.services.oci.byte_streams import write_stream
from harbor_api.v2.http import ClientDisconnectedError, Request, Responder

READ_CHUNK = 1024 * 1024


async def receive_into(request: Request, writer: Writer, hasher: Hasher) -> bool:
    """Stream the request body into ``writer`` while hashing it (see
    ``services.oci.byte_streams``). Returns True when the body was complete, False when the
    client disconnected (what arrived has then been written; the caller decides whether to
    keep it)."""
    try:
        await write_stream(request.chunks(), writer, hasher)
    except ClientDisconnectedError:
        return False
    return True


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
