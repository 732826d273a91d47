"""This instance as the destination of a pull-mode copy: the write side of an adapter over
the registry's own services (``services.oci``), in process.

Everything a client push goes through applies: push authorisation (a proxy-cache project
refuses), quotas (a declared size is refused before a byte is read; the link charges
it), digest verification (a whole blob streams into a temporary object adopted only when
its content matches; a chunked one goes through an upload session), blob links, manifest
validation (every referenced blob and child must be linked first), tag moves, the audit
log and the push event. No bytes are written any other way.

A blob this instance already stores (in any repository) is linked, not fetched again.
The copies are made as a system administrator (the first one), as Harbor's job service
writes as its own privileged user.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import select

from harbor_api.adapters.base import (
    Adapter,
    AdapterError,
    BlobSource,
    Endpoint,
    ManifestHead,
    Upload,
)
from harbor_api.auth.principal import Principal
from harbor_api.db.models import User
from harbor_api.db.session import Database
from harbor_api.errors import ConflictError, HarborError
from harbor_api.registry.blobs import BlobStore
from harbor_api.registry.storage.base import StorageDriver
from harbor_api.registry.upload_files import UploadFiles
from harbor_api.services import projects
from harbor_api.services.context import AppState, RequestContext
from harbor_api.services.oci import artifacts, repositories
from harbor_api.services.oci.manifests import Manifests, parse_reference
from harbor_api.services.oci.upload_sessions import ChunkRange, UploadSessions


def replication_principal(db: Database) -> Principal:
    """The account the copies are made as: the first system administrator."""
    with db.read() as s:
        row = s.execute(
            select(User.id, User.username).where(User.sysadmin.is_(True)).order_by(User.id).limit(1)
        ).first()
    if row is None:
        raise AdapterError("this instance has no system administrator to replicate as")
    return Principal(kind="user", user_id=row[0], username=row[1], sysadmin=True, via="replication")


def _refusal(exc: HarborError, what: str) -> AdapterError:
    return AdapterError(f"{what}: refused here: {exc.message}", exc.status)


class LocalDestination(Adapter):
    def __init__(self, db: Database, storage: StorageDriver, settings) -> None:
        super().__init__(Endpoint("local", "harbor", False, None))
        self.db, self.settings = db, settings
        self.blobs = BlobStore(storage)
        self.manifests = Manifests(db, self.blobs)
        self.uploads = UploadSessions(db, UploadFiles(storage), self.blobs, settings)
        self.principal = replication_principal(db)

    # -- namespaces -----------------------------------------------------------------------
    def create_namespace(self, name: str) -> bool:
        """A missing project is created (private, the default quota), as Harbor's pull
        mode does."""
        ctx = RequestContext(AppState(self.settings, self.db), self.principal)
        if projects.exists(ctx, name):
            return False
        try:
            projects.create(ctx, {"project_name": name, "metadata": {"public": "false"}})
        except ConflictError:
            return False  # another task created it meanwhile
        except HarborError as exc:
            raise _refusal(exc, f"create project {name}") from None
        return True

    # -- manifests ------------------------------------------------------------------------
    def head_manifest(self, repository: str, reference: str) -> ManifestHead | None:
        with self.db.read() as s:
            found = artifacts.find_manifest(
                s, repository, reference, reference.startswith("sha256:")
            )
        return None if found is None else ManifestHead(found.digest, found.media_type, found.size)

    def put_manifest(self, repository: str, reference: str, content: bytes, media_type: str) -> str:
        try:
            pushed = self.manifests.put(
                self.principal, repository, parse_reference(reference), content, media_type
            )
        except HarborError as exc:
            raise _refusal(exc, f"PUT manifest {repository}:{reference}") from None
        return pushed.digest

    # -- blobs ----------------------------------------------------------------------------
    def _project_id(self, repository: str) -> int:
        try:
            return self.uploads.authorize_push(self.principal, repository)
        except HarborError as exc:
            raise _refusal(exc, f"push to {repository}") from None

    def blob_exists(self, repository: str, digest: str) -> bool:
        """Linked in ``repository``, or stored here for another one (then linked now,
        charged to the project's quota like a mount): either way nothing is fetched."""
        with self.db.read() as s:
            if repositories.linked_blob_size(s, repository, digest) is not None:
                return True
            stored = repositories.stored_blob_size(s, digest)
        if stored is None or not self.blobs.exists(digest):
            return False
        try:
            self.uploads.link(repository, self._project_id(repository), digest, stored)
        except HarborError as exc:
            raise _refusal(exc, f"link blob {digest} into {repository}") from None
        return True

    def mount_blob(self, repository: str, digest: str, from_repository: str) -> bool:
        return False  # blob_exists already linked anything stored here

    def push_blob(self, repository: str, digest: str, size: int, chunks: Iterable[bytes]) -> None:
        """Stream the whole blob into a temporary object; adopted under its key only when
        its content matches ``digest`` and ``size``."""
        project_id = self._project_id(repository)
        try:
            self.uploads.check_quota(project_id, digest, size)
            blob = self.uploads.open_blob(digest)
            try:
                for chunk in chunks:
                    blob.hasher.update(chunk)
                    blob.writer.write(chunk)
            except BaseException:
                self.uploads.drop_blob(blob)
                raise
            stored = self.uploads.seal_blob(blob, size)
            self.uploads.link(repository, project_id, digest, stored)
        except HarborError as exc:
            raise _refusal(exc, f"blob {digest} into {repository}") from None

    def push_blob_chunked(
        self,
        repository: str,
        digest: str,
        size: int,
        source: BlobSource,
        chunk_size: int,
        upload: Upload | None = None,
        on_chunk: Callable[[Upload], None] | None = None,
    ) -> int:
        """An upload session (``Upload.location`` is its id) filled ``chunk_size`` bytes at
        a time, each chunk durable before the next; an interrupted one (``upload``)
        continues at the offset the session acknowledged, unless it is gone."""
        try:
            state = None
            if upload is not None:
                try:
                    state = self.uploads.state(self.principal, repository, upload.location)
                except HarborError:
                    state = None  # swept or finished meanwhile: start over
            if state is None:
                state = self.uploads.start(self.principal, repository)
            point = Upload(repository, state.upload_id, state.offset)
            started = point.offset
            while point.offset < size:
                length = min(chunk_size, size - point.offset)
                point.offset = self._append(repository, point, source, length)
                if on_chunk is not None:
                    on_chunk(point)
            self.uploads.finish(self.principal, repository, point.location, digest)
        except HarborError as exc:
            raise _refusal(exc, f"blob {digest} into {repository}") from None
        return started

    def _append(self, repository: str, point: Upload, source: BlobSource, length: int) -> int:
        chunk = ChunkRange(point.offset, point.offset + length - 1)
        opened = self.uploads.open_chunk(self.principal, repository, point.location, chunk, length)
        try:
            writer, hasher = opened.writer, opened.hasher
            assert writer is not None and hasher is not None
            try:
                remaining = length
                with source(point.offset) as reader:
                    for piece in reader.chunks:
                        piece = piece[:remaining]
                        hasher.update(piece)
                        writer.write(piece)
                        remaining -= len(piece)
                        if remaining <= 0:
                            break
                if remaining:
                    raise AdapterError(f"the source ended {remaining} bytes early")
            except BaseException:
                self.uploads.abandon_chunk(opened)
                raise
            return self.uploads.commit_chunk(opened)
        finally:
            opened.release()
