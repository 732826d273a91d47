"""Blob upload endpoints: POST (session, monolithic, mount), PATCH, PUT, GET status, DELETE.

HTTP only: parse the request, stream its body, call the upload rules
(``services.oci.upload_sessions``) and shape the headers. Blocking service calls run in
worker threads, one hop each where the old edge made one.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import anyio

from harbor_api.auth.principal import Principal
from harbor_api.errors import (
    BlobUploadInvalidError,
    ChunkOutOfOrderError,
    DigestInvalidError,
    RangeInvalidError,
)
from harbor_api.registry.digest import is_digest, parse_digest
from harbor_api.services.oci import repository_access
from harbor_api.services.oci.upload_sessions import (
    BlobWriter,
    ChunkRange,
    OpenChunk,
    StoredBlob,
)
from harbor_api.v2 import access
from harbor_api.v2.http import ClientDisconnectedError, Request, Responder
from harbor_api.v2.routes import Route
from harbor_api.v2.streaming import receive_into

if TYPE_CHECKING:
    from harbor_api.v2.app import RegistryApp

_CONTENT_RANGE = re.compile(r"^(?:bytes[ =])?(\d+)-(\d+)(?:/(?:\d+|\*))?$")
#: Chunks up to this size are read into memory first and stored in one thread hop.
SMALL_CHUNK = 1024 * 1024

Handler = Callable[["RegistryApp", Request, Responder, Route], Awaitable[None]]


def _upload_headers(base: str, name: str, upload_id: str, size: int) -> dict[str, str]:
    """Absolute Locations (``base``: the configured external URL, else the scheme and host
    the client used, as Distribution does): some clients, python-dxf among them, cannot
    resolve relative ones."""
    return {
        "Location": f"{base}/v2/{name}/blobs/uploads/{upload_id}",
        "Range": f"0-{max(size - 1, 0)}",
        "Docker-Upload-UUID": upload_id,
        "Content-Length": "0",
    }


def _blob_headers(base: str, name: str, digest: str) -> dict[str, str]:
    return {
        "Location": f"{base}/v2/{name}/blobs/{digest}",
        "Docker-Content-Digest": digest,
        "Content-Length": "0",
    }


async def start_upload(
    app: RegistryApp, request: Request, responder: Responder, route: Route
) -> None:
    name, query, principal = route.name, request.query, request.ctx.principal
    mount = query.get("mount")
    if mount is not None:
        parse_digest(mount)
        if await anyio.to_thread.run_sync(
            app.upload_sessions.mount,
            principal,
            name,
            mount,
            query.get("from", ""),
            request.actions,
            access.MOUNT_SOURCE,
        ):
            await request.drain()
            await responder.respond(201, _blob_headers(request.ctx.base_url, name, mount))
            return
    if query.get("digest") is not None:
        await _monolithic(app, request, responder, route, query["digest"])
        return
    started = await anyio.to_thread.run_sync(app.upload_sessions.start, principal, name)
    await request.drain()
    await responder.respond(202, _upload_headers(request.ctx.base_url, name, started.upload_id, 0))


async def _monolithic(
    app: RegistryApp, request: Request, responder: Responder, route: Route, digest: str
) -> None:
    """``POST ?digest=``: the whole blob in one request, written straight under its key."""
    sessions = app.upload_sessions
    project_id = await anyio.to_thread.run_sync(
        sessions.authorize_push, request.ctx.principal, route.name
    )
    await anyio.to_thread.run_sync(
        sessions.check_quota, project_id, digest, request.content_length()
    )  # DENIED before a byte
    stored = await _receive_blob(app, request, digest, route.name)
    await anyio.to_thread.run_sync(sessions.link, route.name, project_id, digest, stored.size)
    await responder.respond(201, _blob_headers(request.ctx.base_url, route.name, digest))


async def _receive_blob(app: RegistryApp, request: Request, digest: str, name: str) -> StoredBlob:
    """Stream a whole blob into a temporary object beside its blob key; it replaces the key
    only when the content matches ``digest``."""
    sessions = app.upload_sessions
    blob: BlobWriter = await anyio.to_thread.run_sync(sessions.open_blob, digest)
    try:
        if not await receive_into(request, blob.writer, blob.hasher):
            raise ClientDisconnectedError()
        declared = request.content_length()
    except BaseException:
        await anyio.to_thread.run_sync(sessions.drop_blob, blob)
        raise
    size: int = await anyio.to_thread.run_sync(sessions.seal_blob, blob, declared)
    return StoredBlob(name, digest, size)


def _chunk_range(request: Request) -> ChunkRange | None:
    """The chunk a ``Content-Range`` declares; None when there is none; raises
    RangeInvalidError (without headers: the caller adds the session's) when malformed."""
    value = request.header("content-range")
    if not value:
        return None
    found = _CONTENT_RANGE.match(value.strip())
    if found is None:
        raise RangeInvalidError(f"invalid Content-Range {value[:60]!r}")
    return ChunkRange(int(found[1]), int(found[2]))


async def _declared_chunk(app: RegistryApp, request: Request, route: Route) -> ChunkRange | None:
    try:
        return _chunk_range(request)
    except RangeInvalidError as error:  # authorise first; the answer says where it stands
        state = await anyio.to_thread.run_sync(
            app.upload_sessions.state, request.ctx.principal, route.name, route.argument
        )
        error.headers = _upload_headers(
            request.ctx.base_url, route.name, route.argument, state.offset
        )
        raise


def _at_offset(request: Request, route: Route, error: ChunkOutOfOrderError) -> None:
    error.headers = _upload_headers(request.ctx.base_url, route.name, route.argument, error.offset)


async def _open(
    app: RegistryApp, request: Request, route: Route, finishing: bool = False
) -> OpenChunk:
    chunk = await _declared_chunk(app, request, route)
    try:
        opened: OpenChunk = await anyio.to_thread.run_sync(
            app.upload_sessions.open_chunk,
            request.ctx.principal,
            route.name,
            route.argument,
            chunk,
            request.content_length(),
            finishing,
        )
    except ChunkOutOfOrderError as error:
        _at_offset(request, route, error)
        raise
    return opened


async def _append(app: RegistryApp, request: Request, route: Route, opened: OpenChunk) -> int:
    """Stream the body onto the opened session; return the new offset."""
    assert opened.writer is not None and opened.hasher is not None
    try:
        complete = await receive_into(request, opened.writer, opened.hasher)
    except BaseException:
        await anyio.to_thread.run_sync(app.upload_sessions.abandon_chunk, opened)
        raise
    try:
        size: int = await anyio.to_thread.run_sync(
            app.upload_sessions.commit_chunk, opened, complete
        )
    except ChunkOutOfOrderError as error:
        _at_offset(request, route, error)
        raise
    if not complete:
        raise ClientDisconnectedError()
    return size


async def _read_small(request: Request, limit: int) -> tuple[bytes, bool]:
    """The body (at most ``limit`` bytes, as declared) and whether it arrived whole."""
    data = bytearray()
    try:
        async for chunk in request.chunks():
            data += chunk
            if len(data) > limit:
                raise BlobUploadInvalidError("body longer than its Content-Length")
    except ClientDisconnectedError:
        return bytes(data), False
    return bytes(data), True


async def _may_push(
    app: RegistryApp, principal: Principal, name: str, actions: frozenset[str]
) -> bool:
    """Whether ``principal`` may push to ``name``, known before any body is read: a token's
    grant needs no I/O; a signed-in user's is checked in the database (a refusal raises);
    False sends the request down the path that checks (and refuses) first."""
    if principal.token_access is not None:
        return repository_access.token_allows(principal, name, actions)
    if not principal.authenticated:
        return False
    await anyio.to_thread.run_sync(app.upload_sessions.authorize_push, principal, name)
    return True


async def patch_upload(
    app: RegistryApp, request: Request, responder: Responder, route: Route
) -> None:
    name, upload_id = route.name, route.argument
    declared = request.content_length()
    # A small chunk is read into memory only once the caller is known to hold push (a
    # refused caller's body is never read): anonymous callers and tokens without push take
    # the path that checks first.
    if (
        declared is not None
        and declared <= SMALL_CHUNK
        and await _may_push(app, request.ctx.principal, name, request.actions)
    ):
        chunk = await _declared_chunk(app, request, route)
        body, complete = await _read_small(request, declared)
        try:
            size = await anyio.to_thread.run_sync(
                app.upload_sessions.append_bytes,
                request.ctx.principal,
                name,
                upload_id,
                body,
                chunk,
                declared,
                complete,
            )
        except ChunkOutOfOrderError as error:
            _at_offset(request, route, error)
            raise
        if not complete:
            raise ClientDisconnectedError()
    else:
        opened = await _open(app, request, route)
        try:
            size = await _append(app, request, route, opened)
        finally:
            opened.release()
    await responder.respond(202, _upload_headers(request.ctx.base_url, name, upload_id, size))


async def finish_upload(
    app: RegistryApp, request: Request, responder: Responder, route: Route
) -> None:
    name, upload_id = route.name, route.argument
    sessions = app.upload_sessions
    digest = request.query.get("digest")
    if not digest or not is_digest(digest):  # the caller's authorisation is checked first
        await anyio.to_thread.run_sync(sessions.state, request.ctx.principal, name, upload_id)
        if not digest:
            raise DigestInvalidError("the digest query parameter is required")
        parse_digest(digest)
    has_body = request.header("content-length") not in (None, "0") or request.header(
        "transfer-encoding"
    )
    if not has_body:  # the usual finish: authorise, verify and commit in one thread hop
        await anyio.to_thread.run_sync(
            sessions.finish, request.ctx.principal, name, upload_id, digest
        )
    else:
        opened = await _open(app, request, route, finishing=True)
        try:
            if opened.writer is None:  # the whole blob in this request: no session file
                stored = await _receive_blob(app, request, digest, name)
                await anyio.to_thread.run_sync(sessions.finish_with_blob, opened, stored)
            else:
                await _append(app, request, route, opened)
                await anyio.to_thread.run_sync(sessions.finish_opened, opened, digest)
        finally:
            opened.release()
    await responder.respond(201, _blob_headers(request.ctx.base_url, name, digest))


async def upload_status(
    app: RegistryApp, request: Request, responder: Responder, route: Route
) -> None:
    name, upload_id = route.name, route.argument
    state = await anyio.to_thread.run_sync(
        app.upload_sessions.state, request.ctx.principal, name, upload_id
    )
    await responder.respond(
        204, _upload_headers(request.ctx.base_url, name, upload_id, state.offset)
    )


async def cancel_upload(
    app: RegistryApp, request: Request, responder: Responder, route: Route
) -> None:
    await anyio.to_thread.run_sync(
        app.upload_sessions.cancel, request.ctx.principal, route.name, route.argument
    )
    await responder.respond(204, {"Content-Length": "0"})


UPLOAD_HANDLERS: dict[tuple[str, str], Handler] = {
    ("upload_start", "POST"): start_upload,
    ("upload", "PATCH"): patch_upload,
    ("upload", "PUT"): finish_upload,
    ("upload", "GET"): upload_status,
    ("upload", "DELETE"): cancel_upload,
}
