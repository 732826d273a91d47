"""Blob upload sessions: the registry's push state machine, without HTTP.

A session is a row (its offset, owner and, once a finish verified it, its digest; see
``upload_records``) and an object in storage (its bytes; see ``registry.upload_files``), so
it continues on any worker and after a restart. The rules:

* **start** authorises push and the caller's upload limits, then records the session.
* **append** takes the session's lock (a second writer is refused, never mixed in), reads the
  offset under it, checks that a declared chunk continues at that offset, writes, makes the
  bytes durable, then advances the offset (a request that lost a race changes nothing).
* **finish** verifies the digest of the session's bytes and records it *before* the bytes
  move under their blob key; then links the blob into the repository and forgets the
  session. A finish that died between the move and the link is completed by a retry, but
  only for the digest it recorded (a blob of the same size under another digest is someone
  else's content).
* **cancel** removes the row, then the bytes.

A whole blob pushed at once (:meth:`UploadSessions.push_blob`; ``POST ?digest=`` or a PUT at
offset 0 on the edge) opens no session file: it streams into a temporary object that replaces
its blob key only once the content matches the digest.

Every method that touches the database or the disk blocks: callers on an event loop run it in
a worker thread. Callers are the ``/v2`` edge, and replication, GC and quotas (an ``async``
or blocking byte iterator, no request object).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import anyio

from harbor_api.auth.principal import Principal
from harbor_api.db.session import Database
from harbor_api.errors import (
    BlobUploadInvalidError,
    BlobUploadUnknownError,
    ChunkOutOfOrderError,
    DigestInvalidError,
    HarborError,
    RangeInvalidError,
)
from harbor_api.registry import paths
from harbor_api.registry.blobs import BlobStore
from harbor_api.registry.digest import new_hasher, parse_digest
from harbor_api.registry.names import is_repository_name
from harbor_api.registry.storage.base import (
    StorageBusyError,
    StorageError,
    StorageNotFoundError,
    Writer,
)
from harbor_api.registry.upload_files import Hasher, Lock, UploadFiles, new_upload_id
from harbor_api.services.oci import (
    blob_states,
    quota_checks,
    repositories,
    repository_access,
    upload_limits,
)
from harbor_api.services.oci import upload_records as records
from harbor_api.services.oci.byte_streams import ByteSource, write_stream
from harbor_api.settings import Settings

PUSH = frozenset({"push"})
PULL = frozenset({"pull"})


@dataclass(frozen=True)
class ChunkRange:
    """The bytes a chunk says it carries: ``start`` to ``end``, inclusive."""

    start: int
    end: int


@dataclass(frozen=True)
class UploadState:
    """A session as its owner may see it."""

    upload_id: str
    offset: int
    project_id: int


@dataclass
class OpenChunk:
    """A session locked for one append: the caller writes into ``writer`` and ``hasher``
    (which already hold the first ``offset`` bytes), then calls
    :meth:`UploadSessions.commit_chunk` or :meth:`UploadSessions.abandon_chunk`, and always
    :meth:`release`. ``writer`` is None for a finish carrying the whole blob at offset 0."""

    upload_id: str
    name: str
    offset: int
    project_id: int
    writer: Writer | None
    hasher: Hasher | None
    lock: Lock = field(repr=False)
    chunk: ChunkRange | None = None  # what the append declared it carries
    quota_limited: bool = False  # its project has a storage limit: chunks reserve bytes

    def release(self) -> None:
        self.lock.release()


@dataclass
class BlobWriter:
    """A whole blob being received: verified and committed by
    :meth:`UploadSessions.seal_blob`, or dropped by :meth:`UploadSessions.drop_blob`."""

    digest: str
    writer: Writer
    hasher: Hasher


@dataclass(frozen=True)
class StoredBlob:
    """A blob verified, stored under its key and linked into ``repository``."""

    repository: str
    digest: str
    size: int


def commit_or_cancel(writer: Writer) -> None:
    """Commit; when that fails (a write error surfacing at the flush, ENOSPC at the fsync)
    drop what was written instead of leaving it and its buffers to the garbage collector."""
    try:
        writer.commit()
    except BaseException:
        writer.cancel()
        raise


def _unknown(upload_id: str) -> BlobUploadUnknownError:
    return BlobUploadUnknownError(f"upload {upload_id} unknown", detail={"uuid": upload_id})


def _check_id(upload_id: str) -> None:
    if not paths.is_upload_id(upload_id):
        raise BlobUploadUnknownError(f"upload {upload_id[:80]} unknown")


def check_chunk(chunk: ChunkRange | None, declared: int | None, offset: int) -> None:
    """A declared chunk must start at the offset and agree with the declared length."""
    if chunk is None:
        return
    if (
        chunk.start != offset
        or chunk.end < chunk.start
        or (declared is not None and declared != chunk.end - chunk.start + 1)
    ):
        raise ChunkOutOfOrderError(
            f"chunk {chunk.start}-{chunk.end} does not continue the upload at offset {offset}",
            offset,
        )


class UploadSessions:
    """The upload rules over one database, one upload area and one blob store."""

    def __init__(
        self, db: Database, files: UploadFiles, blobs: BlobStore, settings: Settings
    ) -> None:
        self.db = db
        self.files = files
        self.blobs = blobs
        self.settings = settings

    # -- authorisation ------------------------------------------------------------------

    def authorize_push(self, principal: Principal, name: str) -> int:
        """The project id of ``name`` when ``principal`` may push there (else the refusal)."""
        with self.db.read() as session:
            return repository_access.authorize(session, principal, name, PUSH).id

    def check_quota(self, project_id: int, digest: str, declared: int | None) -> None:
        """Refuse a whole blob whose declared length cannot fit the project's quota."""
        if declared is not None:
            with self.db.read() as session:
                quota_checks.check_fits(session, project_id, digest, declared)

    # -- start, status, cancel -----------------------------------------------------------

    def start(self, principal: Principal, name: str) -> UploadState:
        """Open a session (after push and the caller's session limit are checked)."""
        upload_id = new_upload_id()
        with self.db.transaction() as session:
            project = repository_access.authorize(session, principal, name, PUSH)
            owner = upload_limits.owner_of(principal)
            upload_limits.check_can_open(session, self.settings, owner)
            records.create_upload(session, upload_id, name, paths.upload_data_key(upload_id), owner)
        return UploadState(upload_id, 0, project.id)

    def state(self, principal: Principal, name: str, upload_id: str) -> UploadState:
        """The session's offset, after authorising the caller."""
        _check_id(upload_id)
        with self.db.read() as session:
            project = repository_access.authorize(session, principal, name, PUSH)
            offset = records.upload_offset(session, upload_id, name)
        if offset is None:
            raise _unknown(upload_id)
        return UploadState(upload_id, offset, project.id)

    def cancel(self, principal: Principal, name: str, upload_id: str) -> None:
        opened = self._locked(principal, name, upload_id)
        try:
            with self.db.transaction() as session:
                quota_checks.release_upload(session, upload_id)
                records.remove_upload(session, upload_id)
            self.files.discard(upload_id)
        finally:
            opened.release()

    # -- append --------------------------------------------------------------------------

    def _locked(self, principal: Principal, name: str, upload_id: str) -> OpenChunk:
        """Authorise the caller, take the session's lock, then read its offset: with the
        lock held nobody else writes the session, so the offset, the stored bytes and the
        remembered hash agree until ``release()``. A second request writing the same
        session meanwhile is refused (416), never mixed in."""
        _check_id(upload_id)
        project_id = self.authorize_push(principal, name)  # before the lock: it creates a file
        try:
            lock = self.files.lock(upload_id)
        except StorageBusyError:
            raise RangeInvalidError(
                f"upload {upload_id} is being written by another request",
                detail={"uuid": upload_id},
            ) from None
        try:
            with self.db.read() as session:
                offset = records.upload_offset(session, upload_id, name)
            if offset is None:  # unknown, finished or cancelled: what the lock made is litter
                self.files.discard(upload_id)
                raise _unknown(upload_id)
            return OpenChunk(upload_id, name, offset, project_id, None, None, lock)
        except BaseException:
            lock.release()
            raise

    def _byte_allowance(
        self, principal: Principal, upload_id: str, declared: int | None
    ) -> int | None:
        """What the session may still grow by (None: no limit applies): the allowance of
        the session's owner, whom its bytes count against, and of the caller if another
        account (anyone with push may append to a session someone else opened). Refuses a
        chunk whose declared length would pass it."""
        with self.db.read() as session:
            owners = {
                upload_limits.owner_of(principal),
                records.upload_owner(session, upload_id),
            } - {None}
            allowances = [
                a
                for a in (upload_limits.byte_allowance(session, self.settings, o) for o in owners)
                if a is not None
            ]
        allowance = min(allowances) if allowances else None
        if allowance is not None and declared is not None and declared > allowance:
            raise upload_limits.bytes_refused(self.settings)
        return allowance

    def _open_files(self, upload_id: str, offset: int) -> tuple[Writer, Hasher]:
        """(writer continuing the session at ``offset``, hasher of its first bytes)."""
        try:
            hasher = self.files.hasher_at(upload_id, offset)
            return self.files.appender(upload_id, offset), hasher
        except StorageNotFoundError:
            raise BlobUploadUnknownError(f"upload {upload_id} has no data") from None
        except StorageError as exc:
            raise BlobUploadInvalidError(str(exc)) from None

    def open_chunk(
        self,
        principal: Principal,
        name: str,
        upload_id: str,
        chunk: ChunkRange | None = None,
        declared: int | None = None,
        finishing: bool = False,
    ) -> OpenChunk:
        """Authorise, lock the session, check the declared chunk and open the session for
        writing: one thread hop. A finishing request at offset 0 carries the whole blob and
        opens nothing (``writer`` None). The caller releases the lock when done."""
        opened = self._locked(principal, name, upload_id)
        opened.chunk = chunk
        try:
            check_chunk(chunk, declared, opened.offset)
            quota_left = self._reserve_quota(opened, declared)  # DENIED before a byte
            if finishing and opened.offset == 0:
                return opened
            allowance = self._byte_allowance(principal, upload_id, declared)  # 429 before a byte
            writer, opened.hasher = self._open_files(upload_id, opened.offset)
            if allowance is not None:
                writer = upload_limits.CappedWriter(
                    writer, allowance, upload_limits.bytes_refused(self.settings)
                )
            if quota_left is not None:
                writer = upload_limits.CappedWriter(writer, *quota_left)
            opened.writer = writer
            return opened
        except BaseException:
            opened.release()
            raise

    def _reserve_quota(
        self, opened: OpenChunk, declared: int | None
    ) -> tuple[int, HarborError] | None:
        """Hold the declared chunk's bytes toward the project's quota (refused: DENIED);
        for a chunk of unknown length, how many bytes it may bring and the refusal of the
        byte past them (None: no limit)."""
        with self.db.read() as session:  # unlimited (the usual case): no write
            opened.quota_limited = quota_checks.is_limited(session, opened.project_id)
        if not opened.quota_limited:
            return None
        with self.db.transaction() as session:
            if declared is not None:
                quota_checks.cover(
                    session, opened.project_id, opened.upload_id, opened.offset + declared
                )
                return None
            left = quota_checks.allowance(
                session, opened.project_id, opened.upload_id, opened.offset
            )
            if left is None:
                return None
            return left, quota_checks.overflow_error(session, opened.project_id, left + 1)

    def commit_chunk(self, opened: OpenChunk, complete: bool = True) -> int:
        """Data durable first (fsync), then the session's offset. Returns the new offset.
        A ``complete`` chunk must carry what it declared (a cut-short one keeps what came:
        the client continues from the offset)."""
        writer, hasher = opened.writer, opened.hasher
        assert writer is not None and hasher is not None
        chunk = opened.chunk
        if (
            complete
            and chunk is not None
            and writer.size - opened.offset != chunk.end - chunk.start + 1
        ):
            writer.cancel()
            raise ChunkOutOfOrderError(
                f"chunk {chunk.start}-{chunk.end} declared "
                f"{chunk.end - chunk.start + 1} bytes, "
                f"{writer.size - opened.offset} came",
                opened.offset,
            )
        if opened.quota_limited:  # what a chunk of unknown length brought is held first
            try:
                with self.db.transaction() as session:
                    quota_checks.cover(session, opened.project_id, opened.upload_id, writer.size)
            except BaseException:
                writer.cancel()
                raise
        commit_or_cancel(writer)
        with self.db.transaction() as session:
            if not records.advance_upload(session, opened.upload_id, opened.offset, writer.size):
                raise BlobUploadInvalidError("the upload was changed by a concurrent request")
        opened.offset = writer.size
        self.files.remember(opened.upload_id, opened.offset, hasher)
        return opened.offset

    @staticmethod
    def abandon_chunk(opened: OpenChunk) -> None:
        """Drop what this append wrote (the session stays at its offset)."""
        if opened.writer is not None:
            opened.writer.cancel()

    def append_bytes(
        self,
        principal: Principal,
        name: str,
        upload_id: str,
        body: bytes,
        chunk: ChunkRange | None = None,
        declared: int | None = None,
        complete: bool = True,
    ) -> int:
        """A chunk already in memory: authorise, check, open, hash, write, commit and
        advance in one call (one thread hop). Returns the new offset. ``complete`` False:
        ``body`` is what came of a chunk cut short (kept, as on the streamed path)."""
        opened = self.open_chunk(principal, name, upload_id, chunk, declared)
        try:
            writer, hasher = opened.writer, opened.hasher
            assert writer is not None and hasher is not None
            try:
                hasher.update(body)
                writer.write(body)
            except BaseException:
                writer.cancel()
                raise
            return self.commit_chunk(opened, complete)
        finally:
            opened.release()

    async def append(
        self,
        principal: Principal,
        name: str,
        upload_id: str,
        chunks: ByteSource,
        chunk: ChunkRange | None = None,
        declared: int | None = None,
    ) -> int:
        """Append a stream (async or blocking chunks) to the session: the general path for
        callers without a request (the edge streams with :meth:`open_chunk` itself)."""
        opened = await anyio.to_thread.run_sync(
            self.open_chunk, principal, name, upload_id, chunk, declared
        )
        try:
            assert opened.writer is not None and opened.hasher is not None
            try:
                await write_stream(chunks, opened.writer, opened.hasher)
            except BaseException:
                await anyio.to_thread.run_sync(self.abandon_chunk, opened)
                raise
            return await anyio.to_thread.run_sync(self.commit_chunk, opened)
        finally:
            opened.release()

    # -- finish --------------------------------------------------------------------------

    def finish(self, principal: Principal, name: str, upload_id: str, digest: str) -> StoredBlob:
        """The usual finish (no body): authorise, lock, verify and commit in one call."""
        opened = self._locked(principal, name, upload_id)
        try:
            return self.finish_opened(opened, digest)
        finally:
            opened.release()

    def finish_opened(self, opened: OpenChunk, digest: str) -> StoredBlob:
        """Verify the locked session's bytes against ``digest`` and, when they match, store
        and link the blob. A mismatch raises DIGEST_INVALID and leaves the session open."""
        size = opened.offset
        actual = self._final_digest(opened.upload_id, size, digest, opened.hasher)
        with self.db.transaction() as session:  # before the bytes move: what a retry finishes
            if not records.record_digest(session, opened.upload_id, size, actual):
                raise BlobUploadInvalidError("the upload was changed by a concurrent request")
        if actual != digest:
            if opened.hasher is not None:
                self.files.remember(opened.upload_id, size, opened.hasher)
            raise DigestInvalidError(
                f"content digest {actual} does not match {digest}", detail={"digest": digest}
            )
        blob_states.wait_while_collected(self.db, digest)  # not the bytes being deleted
        if size == 0:  # an empty blob: the session never stored anything
            self.blobs.put_verified(digest, b"")
        else:
            try:
                self.files.trim(opened.upload_id, size)  # the blob key holds exactly the blob
                self.blobs.adopt(paths.upload_data_key(opened.upload_id), digest)
            except StorageNotFoundError:
                pass  # already moved (see _final_digest)
        return self._link_finished(opened, digest, size)

    def finish_with_blob(self, opened: OpenChunk, blob: StoredBlob) -> StoredBlob:
        """A finish whose request carried the whole blob (stored by :meth:`seal_blob`):
        link it and forget the session."""
        return self._link_finished(opened, blob.digest, blob.size)

    def _link_finished(self, opened: OpenChunk, digest: str, size: int) -> StoredBlob:
        self.link(opened.name, opened.project_id, digest, size, opened.upload_id)
        self.files.discard(opened.upload_id)
        return StoredBlob(opened.name, digest, size)

    def _final_digest(self, upload_id: str, size: int, expected: str, hasher: Hasher | None) -> str:
        try:
            return self.files.final_digest(upload_id, size, expected, hasher)
        except StorageNotFoundError:
            # Bytes already moved under their blob key by a finish that failed before its
            # link: only the digest that finish verified and recorded may complete (a blob
            # of the same size under another digest is someone else's content).
            with self.db.read() as session:
                recorded = records.verified_digest(session, upload_id, size)
            if recorded is None:
                raise BlobUploadUnknownError(f"upload {upload_id} has no data") from None
            if recorded == expected and self.blobs.size(expected) != size:
                raise BlobUploadUnknownError(f"upload {upload_id} has no data") from None
            return recorded

    # -- whole blobs and links -------------------------------------------------------------

    def open_blob(self, digest: str) -> BlobWriter:
        """Start receiving a whole blob claimed to be ``digest``."""
        parsed = parse_digest(digest)
        return BlobWriter(digest, self.blobs.writer(digest), new_hasher(parsed.algorithm))

    @staticmethod
    def drop_blob(blob: BlobWriter) -> None:
        blob.writer.cancel()

    def seal_blob(self, blob: BlobWriter, declared: int | None = None) -> int:
        """Check the received content against its digest (and the declared length, when
        one was declared) and commit it under its blob key; returns its size. On any
        refusal what was written is dropped."""
        try:
            parsed = parse_digest(blob.digest)
            if blob.hasher.hexdigest() != parsed.hex:
                raise DigestInvalidError(
                    f"content does not match digest {blob.digest}", detail={"digest": blob.digest}
                )
            if declared is not None and declared != blob.writer.size:
                raise BlobUploadInvalidError("body length does not match Content-Length")
            blob_states.wait_while_collected(self.db, blob.digest)
        except BaseException:
            blob.writer.cancel()
            raise
        commit_or_cancel(blob.writer)
        return blob.writer.size

    def link(
        self, name: str, project_id: int, digest: str, size: int, upload_id: str | None = None
    ) -> None:
        """Make a stored blob visible in repository ``name`` (and forget the session it
        came from, in the same transaction)."""
        with self.db.transaction() as session:
            quota_checks.charge_link(session, project_id, digest, size, upload_id)
            repo_id = repositories.ensure_repository(session, name, project_id)
            repositories.link_blob(
                session, repo_id, digest, size, "application/octet-stream", self.blobs.exists
            )
            if upload_id is not None:
                records.remove_upload(session, upload_id)

    async def push_blob(
        self, principal: Principal, name: str, digest: str, chunks: ByteSource
    ) -> StoredBlob:
        """Push a whole blob from a byte stream (async or blocking chunks): authorise,
        stream, verify, store and link. What replication calls."""
        project_id = await anyio.to_thread.run_sync(self.authorize_push, principal, name)
        blob = await anyio.to_thread.run_sync(self.open_blob, digest)
        try:
            await write_stream(chunks, blob.writer, blob.hasher)
        except BaseException:
            await anyio.to_thread.run_sync(self.drop_blob, blob)
            raise
        size = await anyio.to_thread.run_sync(self.seal_blob, blob)
        await anyio.to_thread.run_sync(self.link, name, project_id, digest, size)
        return StoredBlob(name, digest, size)

    def mount(
        self,
        principal: Principal,
        name: str,
        digest: str,
        source: str,
        needed: frozenset[str] = PUSH,
        source_needed: frozenset[str] = PULL,
    ) -> bool:
        """Link ``digest`` from ``source`` into ``name`` when the caller holds ``needed``
        on ``name`` and ``source_needed`` on ``source`` and the blob is there; False: not
        mounted (the caller then uploads it)."""
        with self.db.transaction() as session:
            project = repository_access.authorize(session, principal, name, needed)
            if not source or source == name or not is_repository_name(source):
                return False
            if not repository_access.may(session, principal, source, source_needed):
                return False
            size = repositories.linked_blob_size(session, source, digest)
            if size is None or not self.blobs.exists(digest):
                return False
            quota_checks.charge_link(session, project.id, digest, size)
            repo_id = repositories.ensure_repository(session, name, project.id)
            repositories.link_blob(
                session, repo_id, digest, size, "application/octet-stream", self.blobs.exists
            )
            return True
