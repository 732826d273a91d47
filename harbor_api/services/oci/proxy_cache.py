"""Proxy-cache projects: a project with a ``registry_id`` mirrors that endpoint on demand.

``<project>/<repo>`` maps to the upstream's ``<repo>`` (Harbor adds ``library/`` to
single-segment names for Docker Hub only, an endpoint type we do not offer). Pulls decide:

- a manifest by tag: HEAD upstream; the local copy is served when it has the upstream's
  digest, else the manifest is fetched (its digest verified), stored and served. Upstream
  unreachable or failing: the cached tag is served. Upstream 404: 404, unless the project's
  ``proxy_cache_local_on_not_found`` is true and a cached copy exists.
- a manifest by digest: local when present, else fetched and verified.
- a blob stored already is linked at once when another repository of the project holds it,
  else (stored for another project) only once the upstream confirms it has it: a digest
  names content, it grants no access to another project's.
- a blob missing locally: streamed from upstream to the client while it is written into
  storage, verified against its digest, then linked (a client that goes away mid-blob
  leaves nothing behind).

A fetched manifest becomes an artifact (with its tag) once everything it references is in
the repository, as in Harbor: at once when it is, else a waiter records it as soon as the
client's blob pulls have filled it (``RECORD_WAIT_SECONDS``). The children of an index are
fetched when they are pulled. ``max_upstream_conn`` (project metadata) caps the concurrent
upstream requests per project in this server process. Methods block: run them in threads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from harbor_api.adapters import Adapter, AdapterError, BlobReader, Endpoint, adapter_for
from harbor_api.auth.principal import Principal
from harbor_api.db.models import ProjectMetadata
from harbor_api.errors import BlobCollectedError, ImmutableTagError, ManifestBlobUnknownError
from harbor_api.registry.blobs import BlobStore
from harbor_api.registry.names import project_of
from harbor_api.registry.storage.base import StorageNotFoundError
from harbor_api.services import registries
from harbor_api.services.context import AppState, RequestContext
from harbor_api.services.oci import (
    artifacts,
    blob_states,
    quota_checks,
    repositories,
    repository_access,
)
from harbor_api.services.oci.artifacts import ManifestRef
from harbor_api.services.oci.manifests import LoadedManifest, Manifests, Reference
from harbor_api.services.oci.upload_sessions import BlobWriter, UploadSessions
from harbor_api.services.replication.metering import Meter

log = logging.getLogger(__name__)

PULL = frozenset({"pull"})
#: How long a fetched manifest waits for its blobs before it is given up (Harbor: minutes).
RECORD_WAIT_SECONDS = 600.0
RECORD_POLL_SECONDS = 0.25
#: How long a request waits for a free upstream connection under ``max_upstream_conn``.
CONNECTION_WAIT_SECONDS = 60.0
#: upstream adapters kept per process (one per endpoint configuration in use)
MAX_ADAPTERS = 32


@dataclass(frozen=True)
class Upstream:
    """Where a proxy project's pulls go, and its settings."""

    project_id: int
    registry_id: int
    endpoint: Endpoint
    repository: str  # the upstream name of the repository
    local_on_not_found: bool
    max_connections: int | None
    speed_kb: int = -1  # proxy_speed_kb: KB/s per blob fetched from upstream (-1: no cap)


@dataclass
class UpstreamBlob:
    """A blob being copied from upstream: each chunk read is written to storage too.
    ``finish`` verifies and links it, ``discard`` drops what was written."""

    size: int
    name: str
    project_id: int
    reader: BlobReader
    opened: AbstractContextManager[BlobReader]
    blob: BlobWriter
    cache: ProxyCache
    release: threading.Semaphore | None
    _closed: bool = field(default=False)

    def next_chunk(self) -> bytes | None:
        chunk = next(self.reader.chunks, None)
        if chunk is not None:
            self.blob.writer.write(chunk)
            self.blob.hasher.update(chunk)
        return chunk

    def finish(self) -> None:
        try:
            size = self.cache.uploads.seal_blob(self.blob, self.size)
            self.cache.uploads.link(self.name, self.project_id, self.blob.digest, size)
        finally:
            self._close()

    def discard(self) -> None:
        """Drop what was written (nothing to do once finished or discarded)."""
        if self._closed:
            return
        try:
            self.cache.uploads.drop_blob(self.blob)
        finally:
            self._close()

    def _close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self.opened.__exit__(None, None, None)
        finally:
            if self.release is not None:
                self.release.release()


class ProxyCache:
    def __init__(
        self, state: AppState, manifests: Manifests, uploads: UploadSessions, blobs: BlobStore
    ) -> None:
        self.state = state
        self.db = state.db
        self.manifests = manifests
        self.uploads = uploads
        self.blobs = blobs
        self._lock = threading.Lock()
        # by endpoint configuration: a registry whose URL or credential changes gets a new
        # one, so the oldest are dropped past MAX_ADAPTERS (not closed: a pull in flight
        # may still use one; its connections go with it)
        self._adapters: OrderedDict[Endpoint, Adapter] = OrderedDict()
        self._limits: dict[int, tuple[int, threading.Semaphore]] = {}
        self._waiting: set[tuple[str, str, str | None]] = set()

    # -- which projects ------------------------------------------------------------------

    def is_proxy(self, name: str) -> bool:
        """Whether ``name`` is in a proxy-cache project (one indexed read, writes nothing)."""
        with self.db.read() as session:
            project = repositories.project_by_name(session, project_of(name))
        return project is not None and project.registry_id is not None

    def _upstream(self, principal: Principal, name: str, needed: frozenset[str]) -> Upstream | None:
        """Authorise the pull and describe the upstream (None: not a proxy project)."""
        with self.db.read() as session:
            project = repository_access.authorize(session, principal, name, needed)
            if project.registry_id is None:
                return None
            rows = session.execute(
                select(ProjectMetadata.name, ProjectMetadata.value).where(
                    ProjectMetadata.project_id == project.id,
                    ProjectMetadata.name.in_(
                        ("max_upstream_conn", "proxy_cache_local_on_not_found", "proxy_speed_kb")
                    ),
                )
            ).all()
        metadata = {row[0]: row[1] for row in rows}
        endpoint = registries.endpoint_of(RequestContext(self.state), project.registry_id)
        limit = int(metadata.get("max_upstream_conn") or -1)
        return Upstream(
            project.id,
            project.registry_id,
            endpoint,
            name.split("/", 1)[1],
            metadata.get("proxy_cache_local_on_not_found") == "true",
            limit if limit > 0 else None,
            int(metadata.get("proxy_speed_kb") or -1),
        )

    def _adapter(self, upstream: Upstream) -> Adapter:
        """One adapter (connections, cached tokens) per endpoint configuration."""
        with self._lock:
            adapter = self._adapters.get(upstream.endpoint)
            if adapter is None:
                adapter = self._adapters[upstream.endpoint] = adapter_for(upstream.endpoint)
                while len(self._adapters) > MAX_ADAPTERS:
                    self._adapters.popitem(last=False)
            else:
                self._adapters.move_to_end(upstream.endpoint)
            return adapter

    def _connection(self, upstream: Upstream) -> threading.Semaphore | None:
        """Take one of the project's upstream connections (None: unlimited); the caller
        releases it. Waiting too long is an upstream failure."""
        if upstream.max_connections is None:
            return None
        with self._lock:
            known = self._limits.get(upstream.project_id)
            if known is None or known[0] != upstream.max_connections:
                known = (
                    upstream.max_connections,
                    threading.BoundedSemaphore(upstream.max_connections),
                )
                self._limits[upstream.project_id] = known
        if not known[1].acquire(timeout=CONNECTION_WAIT_SECONDS):
            raise AdapterError(
                f"no free upstream connection in {CONNECTION_WAIT_SECONDS:.0f}s "
                f"(max_upstream_conn {upstream.max_connections})"
            )
        return known[1]

    # -- manifests -----------------------------------------------------------------------

    def load_manifest(
        self,
        principal: Principal,
        name: str,
        reference: Reference | None,
        with_body: bool,
        needed: frozenset[str] = PULL,
    ) -> LoadedManifest | None:
        """``Manifests.load`` for a proxy project: see the module's rules. None: unknown."""
        upstream = self._upstream(principal, name, needed)
        if upstream is None or reference is None:
            return self.manifests.load(principal, name, reference, with_body, needed)
        local = self._local(name, reference, with_body)
        if reference.by_digest:
            if local is not None:
                return local
            return self._fetch_or_none(upstream, name, reference.value, None, with_body)
        try:
            head = self._head(upstream, reference.value)
        except AdapterError as exc:
            log.warning(
                "proxy %s: upstream check of %s failed (%s); serving the cache",
                name,
                reference.value,
                exc.message,
            )
            return local
        if head is None:  # the upstream has no such tag
            return local if upstream.local_on_not_found else None
        if local is not None and local.ref.digest == head:
            return local
        return self._fetch_or_none(
            upstream, name, head or reference.value, reference.value, with_body, local
        )

    def _local(self, name: str, reference: Reference, with_body: bool) -> LoadedManifest | None:
        with self.db.read() as session:
            found = artifacts.find_manifest(session, name, reference.value, reference.by_digest)
        if found is None:
            return None
        try:
            return LoadedManifest(found, self.blobs.get(found.digest) if with_body else b"")
        except StorageNotFoundError:
            return None

    def _head(self, upstream: Upstream, tag: str) -> str | None:
        """The upstream digest of ``tag`` ("" when it sends none), None when it has none."""
        slot = self._connection(upstream)
        try:
            head = self._adapter(upstream).head_manifest(upstream.repository, tag)
        finally:
            if slot is not None:
                slot.release()
        return None if head is None else head.digest

    def _fetch_or_none(
        self,
        upstream: Upstream,
        name: str,
        wanted: str,
        tag: str | None,
        with_body: bool,
        fallback: LoadedManifest | None = None,
    ) -> LoadedManifest | None:
        try:
            return self._fetch(upstream, name, wanted, tag, with_body)
        except AdapterError as exc:
            log.warning("proxy %s: fetching manifest %s failed (%s)", name, wanted, exc.message)
            return fallback

    def _fetch(
        self, upstream: Upstream, name: str, wanted: str, tag: str | None, with_body: bool
    ) -> LoadedManifest:
        """Fetch ``wanted`` (a digest, or a tag when the upstream named no digest), verify
        and store its bytes, and have it recorded (now or once its blobs are here)."""
        by_digest = ":" in wanted
        # Always from the upstream, even when these bytes are stored already: stored bytes
        # may be another project's, which this project's readers must not get by digest.
        slot = self._connection(upstream)
        try:
            fetched = self._adapter(upstream).get_manifest(upstream.repository, wanted)
        finally:
            if slot is not None:
                slot.release()
        body, media_type = fetched.content, fetched.media_type
        try:
            digest, parsed = self.manifests.verify(body, media_type, Reference(wanted, by_digest))
        except Exception as exc:  # noqa: BLE001 - an upstream's bad manifest is its failure
            raise AdapterError(f"the upstream manifest {wanted} is invalid: {exc}") from None
        blob_states.wait_while_collected(self.db, digest)  # then the bytes
        self.blobs.put_verified(digest, body)
        self._record_soon(upstream.project_id, name, digest, body, parsed.media_type, tag)
        return LoadedManifest(
            ManifestRef(digest, parsed.media_type, len(body)), body if with_body else b""
        )

    def _record(
        self, project_id: int, name: str, digest: str, body: bytes, media_type: str, tag: str | None
    ) -> bool:
        """Record the artifact (and tag); False while something it references is missing.
        An upstream that moved a tag this project holds immutable is served, not recorded:
        the local tag keeps its digest."""
        _, parsed = self.manifests.verify(body, media_type, Reference(digest, True))
        try:
            with self.db.transaction() as session:
                repo_id = repositories.ensure_repository(session, name, project_id)
                artifacts.record_manifest(
                    session, repo_id, digest, len(body), parsed, tag, self.blobs.exists
                )
        except (ManifestBlobUnknownError, IntegrityError, BlobCollectedError):
            return False
        except ImmutableTagError:
            pass  # served from the upstream; the local tag keeps its digest
        return True

    def _record_soon(
        self, project_id: int, name: str, digest: str, body: bytes, media_type: str, tag: str | None
    ) -> None:
        if self._record(project_id, name, digest, body, media_type, tag):
            return
        key = (name, digest, tag)
        with self._lock:
            if key in self._waiting:
                return
            self._waiting.add(key)

        def wait() -> None:
            deadline = time.monotonic() + RECORD_WAIT_SECONDS
            try:
                while time.monotonic() < deadline:
                    time.sleep(RECORD_POLL_SECONDS)
                    if self._record(project_id, name, digest, body, media_type, tag):
                        return
                log.warning("proxy %s: %s was not pulled completely; not cached", name, digest)
            except Exception:  # a waiter must never die loudly in the background
                log.exception("proxy %s: recording %s failed", name, digest)
            finally:
                with self._lock:
                    self._waiting.discard(key)

        threading.Thread(target=wait, name=f"proxy-record-{digest[7:19]}", daemon=True).start()

    # -- blobs ---------------------------------------------------------------------------

    def open_blob(
        self, principal: Principal, name: str, digest: str, needed: frozenset[str] = PULL
    ) -> int | UpstreamBlob | None:
        """For a blob not linked in ``name``: the size when a proxy project could link a
        blob already stored, an open upstream copy, or None (not a proxy project, or the
        upstream does not have it or cannot be reached)."""
        if not self.is_proxy(name):
            return None
        upstream = self._upstream(principal, name, needed)
        if upstream is None:
            return None
        with self.db.read() as session:
            stored = repositories.stored_blob_size(session, digest)
            ours = stored is not None and quota_checks.in_project(
                session, upstream.project_id, digest
            )
        try:
            if stored is not None and self.blobs.exists(digest):
                # stored for another project, maybe a private one: linked here only when
                # the upstream has it too (the caller's digest alone grants nothing)
                if not ours and not self._upstream_has_blob(upstream, digest):
                    return None
                self.uploads.link(name, upstream.project_id, digest, stored)
                return stored
            return self._open_upstream(upstream, name, digest)
        except AdapterError as exc:
            log.warning("proxy %s: fetching blob %s failed (%s)", name, digest, exc.message)
            return None

    def _upstream_has_blob(self, upstream: Upstream, digest: str) -> bool:
        slot = self._connection(upstream)
        try:
            return self._adapter(upstream).blob_exists(upstream.repository, digest)
        finally:
            if slot is not None:
                slot.release()

    def _open_upstream(self, upstream: Upstream, name: str, digest: str) -> UpstreamBlob:
        slot = self._connection(upstream)
        try:
            opened = self._adapter(upstream).pull_blob(upstream.repository, digest)
            reader = opened.__enter__()
            if upstream.speed_kb > 0:  # the client and the cache both get it at that pace
                reader = BlobReader(
                    reader.size, reader.offset, Meter(upstream.speed_kb).paced(reader.chunks)
                )
            try:
                blob = self.uploads.open_blob(digest)
            except BaseException:
                opened.__exit__(None, None, None)
                raise
        except BaseException:
            if slot is not None:
                slot.release()
            raise
        return UpstreamBlob(
            reader.size, name, upstream.project_id, reader, opened, blob, self, slot
        )
