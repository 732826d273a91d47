"""Blob endpoints: HEAD/GET (with Range) and DELETE of ``/v2/<name>/blobs/<digest>``."""

from __future__ import annotations

import logging

import anyio

from harbor_api.errors import BlobUnknownError, HarborError, RangeInvalidError
from harbor_api.registry.digest import parse_digest
from harbor_api.registry.storage.base import StorageNotFoundError
from harbor_api.services.oci import repository_access
from harbor_api.services.oci.proxy_cache import UpstreamBlob
from harbor_api.v2 import offload
from harbor_api.v2.streaming import READ_CHUNK, send_chunks

log = logging.getLogger(__name__)

BLOB_CONTENT_TYPE = "application/octet-stream"
#: Blobs (or ranges) up to this size are read whole in one thread hop, then sent.
SMALL_BLOB = 1024 * 1024


def parse_range(value: str, size: int) -> tuple[int, int] | None:
    """``bytes=a-b`` / ``bytes=a-`` / ``bytes=-n`` → inclusive (start, end); None means the
    header is not a single byte range and is ignored. Unsatisfiable → RANGE_INVALID."""
    unit, _, spec = value.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash:
        return None
    try:
        if first == "":
            length = int(last)
            if length <= 0:
                raise ValueError
            start, end = max(size - length, 0), size - 1
        else:
            start = int(first)
            end = int(last) if last else size - 1
    except ValueError:
        return None
    end = min(end, size - 1)
    if start < 0 or start >= size or end < start:
        raise RangeInvalidError(
            f"range {value} not satisfiable for {size} bytes",
            headers={"Content-Range": f"bytes */{size}"},
        )
    return start, end


async def get_blob(app, request, responder, route) -> None:
    digest = route.argument
    parse_digest(digest)
    principal = request.ctx.principal

    def lookup() -> int | None:
        return app.blob_links.linked_size(principal, route.name, digest, request.actions)

    size = await offload.run_read(
        app, lookup, repository_access.token_allows(principal, route.name, request.actions)
    )
    if size is None:  # a proxy-cache project may fetch it from its upstream
        found = await anyio.to_thread.run_sync(
            app.proxy_cache.open_blob, principal, route.name, digest, request.actions
        )
        if isinstance(found, UpstreamBlob):
            await _send_from_upstream(request, responder, found)
            return
        size = found
    if size is None:
        raise BlobUnknownError(f"blob unknown to registry: {digest}", detail={"digest": digest})
    headers = {
        "Docker-Content-Digest": digest,
        "Accept-Ranges": "bytes",
        "Content-Type": BLOB_CONTENT_TYPE,
        "ETag": f'"{digest}"',
        "Cache-Control": "max-age=31536000",
    }
    status, start, length = 200, 0, size
    wanted = request.header("range")
    if wanted and size > 0:
        chosen = parse_range(wanted, size)
        if chosen is not None:
            start, end = chosen
            status, length = 206, end - start + 1
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(length)
    if request.method == "HEAD":
        await responder.start(status, headers)
        await responder.body(b"", False)
        return
    try:
        if length <= SMALL_BLOB:  # one thread hop for open, read and close
            body = await anyio.to_thread.run_sync(_read_whole, app, digest, start, length)
        else:
            chunks = await anyio.to_thread.run_sync(
                app.blobs.read, digest, start, length, READ_CHUNK
            )
    except StorageNotFoundError:
        raise HarborError(f"blob {digest} is recorded but missing from storage") from None
    await responder.start(status, headers)
    if length <= SMALL_BLOB:
        await responder.body(body, False)
    else:
        await send_chunks(responder, chunks)


async def _send_from_upstream(request, responder, upstream: UpstreamBlob) -> None:
    """Stream a blob from a proxy project's upstream to the client while it is stored.
    A Range is answered 206 with just those bytes: the whole blob is still read from
    upstream and stored (its digest can only be verified whole), the response ending once
    the range is sent and the rest read after it. Verified and linked at the end; dropped
    if the client goes away before its bytes are sent."""
    blob = upstream.blob
    headers = {
        "Docker-Content-Digest": blob.digest,
        "Accept-Ranges": "bytes",
        "Content-Type": BLOB_CONTENT_TYPE,
        "ETag": f'"{blob.digest}"',
        "Content-Length": str(upstream.size),
    }
    if request.method == "HEAD":
        await anyio.to_thread.run_sync(upstream.discard)
        await responder.start(200, headers)
        await responder.body(b"", False)
        return
    status, first, last = 200, 0, upstream.size - 1
    wanted = request.header("range")
    try:
        chosen = parse_range(wanted, upstream.size) if wanted and upstream.size > 0 else None
    except RangeInvalidError:
        await anyio.to_thread.run_sync(upstream.discard)
        raise
    if chosen is not None:
        (first, last), status = chosen, 206
        headers["Content-Range"] = f"bytes {first}-{last}/{upstream.size}"
        headers["Content-Length"] = str(last - first + 1)
    position, sent_all = 0, False
    try:
        await responder.start(status, headers)
        while (chunk := await anyio.to_thread.run_sync(upstream.next_chunk)) is not None:
            if status == 200:
                await responder.body(chunk, True)
            elif not sent_all:
                piece = chunk[max(first - position, 0) : max(last + 1 - position, 0)]
                if piece:
                    await responder.body(piece, True)
                if position + len(chunk) > last:
                    sent_all = True
                    await responder.body(b"", False)  # the client has its range
            position += len(chunk)
        await anyio.to_thread.run_sync(upstream.finish)
    except BaseException:
        await anyio.to_thread.run_sync(upstream.discard)
        if sent_all:  # the answer is complete: a failure to cache it is not the client's
            log.warning(
                "proxy %s: caching blob %s failed after a range", upstream.name, blob.digest
            )
            return
        raise
    if not sent_all:
        await responder.body(b"", False)


def _read_whole(app, digest: str, start: int, length: int) -> bytes:
    body = b"".join(app.blobs.read(digest, start, length, READ_CHUNK))
    if len(body) != length:  # the stored object is shorter than its recorded size
        raise HarborError(f"blob {digest} is shorter in storage than recorded")
    return body


async def delete_blob(app, request, responder, route) -> None:
    digest = route.argument
    parse_digest(digest)
    principal = request.ctx.principal

    if not await anyio.to_thread.run_sync(
        app.blob_links.unlink, principal, route.name, digest, request.actions
    ):
        raise BlobUnknownError(f"blob unknown to registry: {digest}", detail={"digest": digest})
    await responder.respond(202, {"Docker-Content-Digest": digest})


BLOB_HANDLERS = {
    ("blob", "GET"): get_blob,
    ("blob", "HEAD"): get_blob,
    ("blob", "DELETE"): delete_blob,
}
