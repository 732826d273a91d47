"""Blob upload endpoints: POST (session, monolithic, mount), PATCH, PUT, GET status, DELETE.

The session's offset is in the database and its bytes in storage, so a session continues on
any worker and after a restart. A blob becomes visible only once its digest is verified.
"""

from __future__ import annotations

import re

import anyio

from harbor_api.errors import (
    BlobUploadInvalidError,
    BlobUploadUnknownError,
    DigestInvalidError,
    HarborError,
    RangeInvalidError,
)
from harbor_api.registry import paths
from harbor_api.registry.digest import is_digest, new_hasher, parse_digest
from harbor_api.registry.names import is_repository_name
from harbor_api.registry.storage.base import (
    StorageBusyError,
    StorageError,
    StorageNotFoundError,
)
from harbor_api.registry.uploads import new_upload_id
from harbor_api.services.oci import repositories, repository_access, upload_limits
from harbor_api.services.oci import uploads as sessions
from harbor_api.v2 import access
from harbor_api.v2.http import ClientDisconnectedError
from harbor_api.v2.streaming import receive_into

_CONTENT_RANGE = re.compile(r"^(?:bytes[ =])?(\d+)-(\d+)(?:/(?:\d+|\*))?$")
PUSH = access.PUSH
#: Chunks up to this size are read into memory first and stored in one thread hop.
SMALL_CHUNK = 1024 * 1024


def _upload_headers(base: str, name: str, upload_id: str, size: int) -> dict[str, str]:
    """Absolute Locations (``base``: the configured external URL, else the scheme and host
    the client used, as Distribution does): some clients, python-dxf among them, cannot
    resolve relative ones."""
    return {"Location": f"{base}/v2/{name}/blobs/uploads/{upload_id}",
            "Range": f"0-{max(size - 1, 0)}", "Docker-Upload-UUID": upload_id,
            "Content-Length": "0"}


def _blob_headers(base: str, name: str, digest: str) -> dict[str, str]:
    return {"Location": f"{base}/v2/{name}/blobs/{digest}", "Docker-Content-Digest": digest,
            "Content-Length": "0"}


async def start_upload(app, request, responder, route) -> None:
    name, query, principal = route.name, request.query, request.ctx.principal
    mount = query.get("mount")
    if mount is not None:
        parse_digest(mount)
        if await anyio.to_thread.run_sync(_mount, app, principal, name, mount,
                                          query.get("from", "")):
            await request.drain()
            await responder.respond(201, _blob_headers(request.ctx.base_url, name, mount))
            return
    if query.get("digest") is not None:
        await _monolithic(app, request, responder, route, query["digest"])
        return
    upload_id = new_upload_id()

    def create() -> None:
        with app.db.transaction() as session:
            repository_access.authorize(session, principal, name, PUSH)
            owner = upload_limits.owner_of(principal)
            upload_limits.check_can_open(session, app.state.settings, owner)
            sessions.create_upload(session, upload_id, name, paths.upload_data_key(upload_id),
                                   owner)

    await anyio.to_thread.run_sync(create)
    await request.drain()
    await responder.respond(202, _upload_headers(request.ctx.base_url, name, upload_id, 0))


def _mount(app, principal, name: str, digest: str, source: str) -> bool:
    """Link ``digest`` from ``source`` into ``name`` when the caller may pull it there."""
    with app.db.transaction() as session:
        project = repository_access.authorize(session, principal, name, PUSH)
        if not source or source == name or not is_repository_name(source):
            return False
        try:
            repository_access.authorize(session, principal, source, access.MOUNT_SOURCE)
        except HarborError:
            return False
        size = repositories.linked_blob_size(session, source, digest)
        if size is None or not app.blobs.exists(digest):
            return False
        repo_id = repositories.ensure_repository(session, name, project.id)
        repositories.link_blob(session, repo_id, digest, size)
        return True


async def _monolithic(app, request, responder, route, digest: str) -> None:
    """``POST ?digest=``: the whole blob in one request, written straight under its key."""
    principal = request.ctx.principal

    def check():
        with app.db.read() as session:
            return repository_access.authorize(session, principal, route.name, PUSH).id

    project_id = await anyio.to_thread.run_sync(check)
    size = await _receive_blob(app, request, digest)
    await anyio.to_thread.run_sync(_link, app, route.name, project_id, digest, size)
    await responder.respond(201, _blob_headers(request.ctx.base_url, route.name, digest))


async def _receive_blob(app, request, digest: str) -> int:
    """Stream a whole blob into a temporary object beside its blob key; it replaces the key
    only when the content matches ``digest``. Returns the size."""
    parsed = parse_digest(digest)
    writer = await anyio.to_thread.run_sync(app.driver.writer, paths.blob_key(digest))
    hasher = new_hasher(parsed.algorithm)
    try:
        complete = await receive_into(request, writer, hasher)
        if not complete:
            raise ClientDisconnectedError()
        if hasher.hexdigest() != parsed.hex:
            raise DigestInvalidError(f"content does not match digest {digest}",
                                     detail={"digest": digest})
        declared = request.content_length()
        if declared is not None and declared != writer.size:
            raise BlobUploadInvalidError("body length does not match Content-Length")
    except BaseException:
        await anyio.to_thread.run_sync(writer.cancel)
        raise
    await anyio.to_thread.run_sync(_commit_or_cancel, writer)
    return writer.size


def _commit_or_cancel(writer) -> None:
    """Commit; when that fails (a write error surfacing at the flush, ENOSPC at the fsync)
    drop what was written instead of leaving it and its buffers to the garbage collector."""
    try:
        writer.commit()
    except BaseException:
        writer.cancel()
        raise


def _link(app, name: str, project_id: int, digest: str, size: int,
          upload_id: str | None = None) -> None:
    with app.db.transaction() as session:
        repo_id = repositories.ensure_repository(session, name, project_id)
        repositories.link_blob(session, repo_id, digest, size)
        if upload_id is not None:
            sessions.remove_upload(session, upload_id)


def _unknown(upload_id: str) -> BlobUploadUnknownError:
    return BlobUploadUnknownError(f"upload {upload_id} unknown", detail={"uuid": upload_id})


def _load(app, principal, name: str, upload_id: str) -> tuple[int, int]:
    """(offset, project id) of a session, after authorising the caller."""
    if not paths.is_upload_id(upload_id):
        raise BlobUploadUnknownError(f"upload {upload_id[:80]} unknown")
    with app.db.read() as session:
        project = repository_access.authorize(session, principal, name, PUSH)
        offset = sessions.upload_offset(session, upload_id, name)
    if offset is None:
        raise _unknown(upload_id)
    return offset, project.id


def _check_content_range(request, name: str, upload_id: str, offset: int) -> None:
    value = request.header("content-range")
    if not value:
        return
    current = _upload_headers(request.ctx.base_url, name, upload_id, offset)
    found = _CONTENT_RANGE.match(value.strip())
    if found is None:
        raise RangeInvalidError(f"invalid Content-Range {value[:60]!r}",
                                headers=current)
    start, end = int(found[1]), int(found[2])
    declared = request.content_length()
    if start != offset or end < start or (declared is not None and
                                          declared != end - start + 1):
        raise RangeInvalidError(f"chunk {start}-{end} does not continue the upload at "
                                f"offset {offset}",
                                headers=current)


def _open_session(app, upload_id: str, offset: int):
    """(writer continuing the session at ``offset``, hasher of its first ``offset`` bytes)."""
    try:
        hasher = app.uploads.hasher_at(upload_id, offset)
        return app.uploads.appender(upload_id, offset), hasher
    except StorageNotFoundError:
        raise BlobUploadUnknownError(f"upload {upload_id} has no data") from None
    except StorageError as exc:
        raise BlobUploadInvalidError(str(exc)) from None


def _locked(app, principal, name: str, upload_id: str):
    """Authorise the caller, take the session's lock, then read its offset: with the lock
    held nobody else writes the session, so the offset, the stored bytes and the remembered
    hash agree until ``release()``. A second request writing the same session meanwhile is
    refused (416), never mixed in. Returns (lock, offset, project id)."""
    if not paths.is_upload_id(upload_id):
        raise BlobUploadUnknownError(f"upload {upload_id[:80]} unknown")
    with app.db.read() as session:  # before the lock: it creates a file
        project_id = repository_access.authorize(session, principal, name, PUSH).id
    try:
        lock = app.uploads.lock(upload_id)
    except StorageBusyError:
        raise RangeInvalidError(f"upload {upload_id} is being written by another request",
                                detail={"uuid": upload_id}) from None
    try:
        with app.db.read() as session:
            offset = sessions.upload_offset(session, upload_id, name)
        if offset is None:  # unknown, finished or cancelled: what the lock created is litter
            app.uploads.discard(upload_id)
            raise _unknown(upload_id)
        return lock, offset, project_id
    except BaseException:
        lock.release()
        raise


def _byte_allowance(app, request) -> int | None:
    """What the caller's open sessions may still grow by (None: no limit applies); refuses
    a chunk whose declared length would pass it."""
    owner = upload_limits.owner_of(request.ctx.principal)
    if owner is None:
        return None
    settings = app.state.settings
    with app.db.read() as session:
        allowance = upload_limits.byte_allowance(session, settings, owner)
    declared = request.content_length()
    if allowance is not None and declared is not None and declared > allowance:
        raise upload_limits.bytes_refused(settings)
    return allowance


def _prepare_append(app, request, name: str, upload_id: str, finishing: bool = False):
    """Authorise, lock the session, check Content-Range and open it: one thread hop. A
    finishing PUT at offset 0 carries the whole blob and opens nothing (writer None). The
    caller releases the lock (last item) when done."""
    lock, offset, project_id = _locked(app, request.ctx.principal, name, upload_id)
    try:
        _check_content_range(request, name, upload_id, offset)
        if finishing and offset == 0:
            return offset, project_id, None, None, lock
        allowance = _byte_allowance(app, request)  # 429 before a byte when it cannot fit
        writer, hasher = _open_session(app, upload_id, offset)
        if allowance is not None:
            writer = upload_limits.CappedWriter(writer, allowance,
                                                upload_limits.bytes_refused(app.state.settings))
        return offset, project_id, writer, hasher, lock
    except BaseException:
        lock.release()
        raise


def _commit_and_advance(app, upload_id: str, offset: int, writer) -> None:
    """Data durable first (fsync), then the session's offset."""
    _commit_or_cancel(writer)
    with app.db.transaction() as session:
        if not sessions.advance_upload(session, upload_id, offset, writer.size):
            raise BlobUploadInvalidError("the upload was changed by a concurrent request")


async def _append(app, request, upload_id: str, offset: int, writer, hasher):
    """Stream the body onto the opened session; return (new offset, hasher)."""
    try:
        complete = await receive_into(request, writer, hasher)
    except BaseException:
        await anyio.to_thread.run_sync(writer.cancel)
        raise
    await anyio.to_thread.run_sync(_commit_and_advance, app, upload_id, offset, writer)
    app.uploads.remember(upload_id, writer.size, hasher)
    if not complete:
        raise ClientDisconnectedError()
    return writer.size, hasher


def _append_small(app, request, name: str, upload_id: str, body: bytes) -> int:
    """A small chunk already in memory: authorise, check, open, hash, write, commit and
    advance in one thread hop (four hops for a streamed chunk). Returns the new offset."""
    offset, _, writer, hasher, lock = _prepare_append(app, request, name, upload_id)
    try:
        try:
            hasher.update(body)
            writer.write(body)
        except BaseException:
            writer.cancel()
            raise
        _commit_and_advance(app, upload_id, offset, writer)
        app.uploads.remember(upload_id, writer.size, hasher)
        return writer.size
    finally:
        lock.release()


async def _read_small(request, limit: int) -> tuple[bytes, bool]:
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


async def _may_push(app, principal, name: str) -> bool:
    """Whether ``principal`` may push to ``name``, known before any body is read: a token's
    grant needs no I/O; a signed-in user's is checked in the database (a refusal raises);
    False sends the request down the path that checks (and refuses) first."""
    if principal.token_access is not None:
        return repository_access.token_allows(principal, name, PUSH)
    if not principal.authenticated:
        return False

    def check() -> None:
        with app.db.read() as session:
            repository_access.authorize(session, principal, name, PUSH)

    await anyio.to_thread.run_sync(check)
    return True


async def patch_upload(app, request, responder, route) -> None:
    name, upload_id = route.name, route.argument
    declared = request.content_length()
    # A small chunk is read into memory only once the caller is known to hold push (a
    # refused caller's body is never read): anonymous callers and tokens without push take
    # the path that checks first.
    if declared is not None and declared <= SMALL_CHUNK and \
            await _may_push(app, request.ctx.principal, name):
        body, complete = await _read_small(request, declared)
        size = await anyio.to_thread.run_sync(_append_small, app, request, name, upload_id,
                                              body)
        if not complete:
            raise ClientDisconnectedError()
    else:
        offset, _, writer, hasher, lock = await anyio.to_thread.run_sync(
            _prepare_append, app, request, name, upload_id)
        try:
            size, _ = await _append(app, request, upload_id, offset, writer, hasher)
        finally:
            lock.release()
    await responder.respond(202, _upload_headers(request.ctx.base_url, name, upload_id, size))


async def finish_upload(app, request, responder, route) -> None:
    name, upload_id = route.name, route.argument
    digest = request.query.get("digest")
    if not digest or not is_digest(digest):  # the caller's authorisation is checked first
        await anyio.to_thread.run_sync(_load, app, request.ctx.principal, name, upload_id)
        if not digest:
            raise DigestInvalidError("the digest query parameter is required")
        parse_digest(digest)
    has_body = request.header("content-length") not in (None, "0") or \
        request.header("transfer-encoding")
    if not has_body:  # the usual finish: authorise, verify and commit in one thread hop
        def load_and_commit() -> tuple[int, str]:
            lock, offset, project_id = _locked(app, request.ctx.principal, name,
                                               upload_id)
            try:
                return offset, _verify_and_commit(app, name, upload_id, digest, offset,
                                                  project_id, None)
            finally:
                lock.release()

        offset, actual = await anyio.to_thread.run_sync(load_and_commit)
        hasher = None
    else:
        offset, project_id, writer, hasher, lock = await anyio.to_thread.run_sync(
            _prepare_append, app, request, name, upload_id, True)
        try:
            if writer is None:  # the whole blob in this request: no session file at all
                size = await _receive_blob(app, request, digest)
                await anyio.to_thread.run_sync(_finish_direct, app, name, project_id,
                                               digest, size, upload_id)
                await responder.respond(201, _blob_headers(request.ctx.base_url, name,
                                                           digest))
                return
            offset, hasher = await _append(app, request, upload_id, offset, writer, hasher)
            actual = await anyio.to_thread.run_sync(_verify_and_commit, app, name,
                                                    upload_id, digest, offset, project_id,
                                                    hasher)
        finally:
            lock.release()
    if actual != digest:
        if hasher is not None:
            app.uploads.remember(upload_id, offset, hasher)
        raise DigestInvalidError(f"content digest {actual} does not match {digest}",
                                 detail={"digest": digest})
    await responder.respond(201, _blob_headers(request.ctx.base_url, name, digest))


def _verify_and_commit(app, name: str, upload_id: str, digest: str, size: int,
                       project_id: int, hasher) -> str:
    """The digest check and, when it matches, the commit (bytes under the blob key, then the
    repository link). Returns the actual digest."""
    actual = _final_digest(app, upload_id, size, digest, hasher)
    with app.db.transaction() as session:  # before the bytes move: what a retry may finish
        if not sessions.record_digest(session, upload_id, size, actual):
            raise BlobUploadInvalidError("the upload was changed by a concurrent request")
    if actual != digest:
        return actual
    if size == 0:  # an empty blob: the session never stored anything
        app.blobs.put_verified(digest, b"")
    else:
        try:
            app.uploads.trim(upload_id, size)  # the blob key holds exactly the blob
            app.blobs.adopt(paths.upload_data_key(upload_id), digest)
        except StorageNotFoundError:
            pass  # already moved (see _final_digest)
    _link(app, name, project_id, digest, size, upload_id)
    app.uploads.discard(upload_id)
    return actual


def _finish_direct(app, name: str, project_id: int, digest: str, size: int,
                   upload_id: str) -> None:
    _link(app, name, project_id, digest, size, upload_id)
    app.uploads.discard(upload_id)


def _final_digest(app, upload_id: str, size: int, expected: str, hasher) -> str:
    try:
        return app.uploads.final_digest(upload_id, size, expected, hasher)
    except StorageNotFoundError:
        # Bytes already moved under their blob key by a finish that failed before its link:
        # only the digest that finish verified and recorded may complete (a blob of the
        # same size under another digest is someone else's content, not this session's).
        with app.db.read() as session:
            recorded = sessions.verified_digest(session, upload_id, size)
        if recorded is None:
            raise BlobUploadUnknownError(f"upload {upload_id} has no data") from None
        if recorded == expected and app.blobs.size(expected) != size:
            raise BlobUploadUnknownError(f"upload {upload_id} has no data") from None
        return recorded


async def upload_status(app, request, responder, route) -> None:
    name, upload_id = route.name, route.argument
    offset, _ = await anyio.to_thread.run_sync(_load, app, request.ctx.principal, name,
                                               upload_id)
    await responder.respond(204, _upload_headers(request.ctx.base_url, name, upload_id, offset))


async def cancel_upload(app, request, responder, route) -> None:
    name, upload_id = route.name, route.argument
    principal = request.ctx.principal

    def cancel() -> None:
        lock, _, _ = _locked(app, principal, name, upload_id)
        try:
            with app.db.transaction() as session:
                sessions.remove_upload(session, upload_id)
            app.uploads.discard(upload_id)
        finally:
            lock.release()

    await anyio.to_thread.run_sync(cancel)
    await responder.respond(204, {"Content-Length": "0"})


UPLOAD_HANDLERS = {
    ("upload_start", "POST"): start_upload, ("upload", "PATCH"): patch_upload,
    ("upload", "PUT"): finish_upload, ("upload", "GET"): upload_status,
    ("upload", "DELETE"): cancel_upload,
}
