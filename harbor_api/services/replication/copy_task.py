"""The ``REPLICATION`` job: one task copies one artifact (its index children first, blob by
blob, then its tags) from this instance to the policy's destination endpoint (push mode),
or from the policy's source endpoint into this instance (pull mode).

Its parameters are a snapshot taken when the execution started (what to copy, where, the
policy's ``override``, ``speed`` and ``copy_by_chunk``), so editing a policy never changes
a running execution. The log says what was copied, skipped or refused, and why.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from harbor_api import adapters
from harbor_api.adapters import AdapterError, Credential, Endpoint, Upload
from harbor_api.adapters.copy import ResumePoint, copy_artifact
from harbor_api.adapters.transport import TransportPool
from harbor_api.auth.credential_cipher import load_credential_cipher
from harbor_api.db.models import RegistryEndpoint, ReplicationTaskProgress
from harbor_api.jobs.types import JobType, register
from harbor_api.services.replication.local_destination import LocalDestination
from harbor_api.services.replication.local_source import LocalSource
from harbor_api.services.replication.metering import Meter, MeteredSource

REPLICATION = "REPLICATION"
CHUNK_SIZE = 8 * 1024 * 1024  # copy_by_chunk: chunks of this size, resumable
# the tasks of this process share connections and tokens per endpoint: an execution's
# hundreds of small artifacts then cost no TCP connect, challenge or token fetch each
TRANSPORTS = TransportPool()
NAMESPACE_SEEN_SECONDS = 4.0  # under the first retry's backoff (5 s)


class SeenNamespaces:
    """The namespaces this process's tasks found or created at an endpoint in the last
    few seconds: the tasks of one execution ask the destination every few seconds, not
    once each. (A namespace deleted meanwhile fails a task, whose retry comes after the
    memory fades.)"""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._seen: dict[tuple[Endpoint, str], float] = {}
        self._lock = threading.Lock()

    def recently(self, endpoint: Endpoint, namespace: str) -> bool:
        now = time.monotonic()
        with self._lock:
            for key in [k for k, at in self._seen.items() if now - at > self.seconds]:
                del self._seen[key]
            return (endpoint, namespace) in self._seen

    def remember(self, endpoint: Endpoint, namespace: str) -> None:
        with self._lock:
            self._seen[(endpoint, namespace)] = time.monotonic()


NAMESPACES = SeenNamespaces(NAMESPACE_SEEN_SECONDS)


def endpoint_for(db: Any, settings: Any, registry_id: int) -> Endpoint:
    with db.read() as s:
        row = s.get(RegistryEndpoint, registry_id)
        if row is None:
            raise AdapterError(f"registry endpoint {registry_id} no longer exists")
        secret = load_credential_cipher(settings).decrypt(row.access_secret)
        credential = (
            Credential(row.credential_type or "basic", row.access_key, secret)
            if row.access_key or secret
            else None
        )
        return Endpoint(row.url, row.type, bool(row.insecure), credential)


def save_progress(db: Any, task_id: int, sent: int) -> None:
    with db.transaction() as s:
        row = s.get(ReplicationTaskProgress, task_id)
        if row is None:
            s.add(ReplicationTaskProgress(task_id=task_id, bytes_copied=sent))
        else:
            row.bytes_copied = sent


def save_resume_point(db: Any, task_id: int, point: ResumePoint | None) -> None:
    """What the destination acknowledged of a chunked blob upload (None: nothing to
    resume), kept across runs of the task."""
    value = (
        json.dumps(
            {
                "digest": point.digest,
                "repository": point.upload.repository,
                "location": point.upload.location,
                "offset": point.upload.offset,
            }
        )
        if point is not None
        else None
    )
    with db.transaction() as s:
        row = s.get(ReplicationTaskProgress, task_id)
        if row is None:
            s.add(ReplicationTaskProgress(task_id=task_id, bytes_copied=0, resume_point=value))
        else:
            row.resume_point = value


def load_resume_point(db: Any, task_id: int) -> ResumePoint | None:
    with db.read() as s:
        row = s.get(ReplicationTaskProgress, task_id)
        raw = row.resume_point if row is not None else None
    if not raw:
        return None
    data = json.loads(raw)
    return ResumePoint(
        data["digest"], Upload(data["repository"], data["location"], int(data["offset"]))
    )


def run(ctx: Any) -> None:
    p = ctx.params
    if p.get("src_registry_id") is not None:
        _pull(ctx, p)
        return
    endpoint = endpoint_for(ctx.db, ctx.settings, p["dest_registry_id"])
    if p.get("operation") == "deletion":
        _delete(ctx, endpoint, p)
        return
    save_progress(ctx.db, ctx.task_id, 0)  # a new run starts from nothing sent
    source = LocalSource(ctx.db, ctx.storage, int(p.get("speed", -1)), _progress(ctx))
    ctx.log(f"copying {p['repository']}@{p['digest']} to {endpoint.url} as {p['dst_repository']}")
    with TRANSPORTS.lease(endpoint) as transport, adapters.adapter_for(endpoint, transport) as dst:
        _copy(ctx, p, source, dst, mount_from=(p["dst_repository"],))


def _pull(ctx: Any, p: dict[str, Any]) -> None:
    """Pull mode: from the source endpoint into this registry, through its own upload
    and manifest services (see ``local_destination``)."""
    endpoint = endpoint_for(ctx.db, ctx.settings, p["src_registry_id"])
    save_progress(ctx.db, ctx.task_id, 0)
    meter = Meter(int(p.get("speed", -1)), _progress(ctx))
    dst = LocalDestination(ctx.db, ctx.storage, ctx.settings)
    ctx.log(f"pulling {p['repository']}@{p['digest']} from {endpoint.url} as {p['dst_repository']}")
    with (
        TRANSPORTS.lease(endpoint) as transport,
        adapters.adapter_for(endpoint, transport) as remote,
    ):
        _copy(ctx, p, MeteredSource(remote, meter), dst, mount_from=())


def _progress(ctx: Any):
    def progress(sent: int) -> None:
        save_progress(ctx.db, ctx.task_id, sent)

    return progress


def _copy(ctx: Any, p: dict[str, Any], source: Any, dst: Any, mount_from: tuple) -> None:
    """One artifact, children first, blob by blob, then its tags. When the first tag is
    to be set (missing there, or moved with ``override``), the manifest goes up under
    that tag: the artifact and its tag in one PUT, still after everything it references."""
    repo, dst_repo, digest = p["repository"], p["dst_repository"], p["digest"]
    namespace = dst_repo.split("/")[0]
    if not NAMESPACES.recently(dst.endpoint, namespace):
        if dst.create_namespace(namespace):
            ctx.log(f"created namespace {namespace} at the destination")
        NAMESPACES.remember(dst.endpoint, namespace)
    tags, override = list(p.get("tags") or []), bool(p.get("override"))
    first_head = dst.head_manifest(dst_repo, tags[0]) if tags else None
    put_as = (
        tags[0]
        if tags and (first_head is None or (override and first_head.digest != digest))
        else digest
    )
    chunked = bool(p.get("copy_by_chunk"))
    resume = load_resume_point(ctx.db, ctx.task_id) if chunked else None
    if resume is not None:
        ctx.log(
            f"an earlier run left blob {resume.digest} at {resume.upload.offset} bytes "
            "acknowledged: continuing that upload"
        )

    def acknowledged(point: ResumePoint) -> None:
        save_resume_point(ctx.db, ctx.task_id, point)

    copied, report = copy_artifact(
        source,
        dst,
        repo,
        digest,
        dst_repo,
        put_as,
        mount_from=mount_from,
        chunk_size=CHUNK_SIZE if chunked else None,
        resume=resume,
        on_chunk=acknowledged if chunked else None,
    )
    if copied != digest:
        raise AdapterError(f"the copy of {digest} arrived as {copied}")
    save_progress(ctx.db, ctx.task_id, report.bytes_sent)
    if chunked:
        save_resume_point(ctx.db, ctx.task_id, None)
    for blob, offset in report.resumed:
        ctx.log(f"blob {blob}: resumed at byte {offset}, not sent again from the start")
    ctx.log(
        f"manifests: {report.manifests}; blobs sent: {report.blobs_sent}, already "
        f"there: {report.blobs_present}, mounted: {report.blobs_mounted}; "
        f"bytes sent: {report.bytes_sent}"
    )
    manifest = report.manifest or source.get_manifest(repo, digest)
    for n, tag in enumerate(tags):
        if n == 0 and put_as == tag:
            ctx.log(f"tag {tag}: set to {manifest.digest}")
            continue
        existing = first_head if n == 0 else dst.head_manifest(dst_repo, tag)
        _tag(ctx, dst, dst_repo, tag, manifest, override, existing)


def _delete(ctx: Any, endpoint: Endpoint, p: dict[str, Any]) -> None:
    """Deletion sync: the artifact (by digest) or the tag deleted here goes there too."""
    with adapters.adapter_for(endpoint) as dst:
        if p.get("digest"):
            dst.delete_manifest(p["dst_repository"], p["digest"])
            ctx.log(f"deleted {p['dst_repository']}@{p['digest']} at {endpoint.url}")
        else:
            dst.delete_tag(p["dst_repository"], p["tag"])
            ctx.log(f"deleted tag {p['dst_repository']}:{p['tag']} at {endpoint.url}")


def _tag(
    ctx: Any, dst: Any, dst_repo: str, tag: str, manifest: Any, override: bool, existing: Any
) -> None:
    """``existing``: what the tag points at there (None: it does not exist)."""
    if existing is not None and existing.digest == manifest.digest:
        ctx.log(f"tag {tag}: already points at {manifest.digest}")
        return
    if existing is not None and not override:
        ctx.log(
            f"tag {tag}: skipped, it points at {existing.digest} at the destination "
            "and the policy does not override"
        )
        return
    dst.put_manifest(dst_repo, tag, manifest.content, manifest.media_type)
    ctx.log(f"tag {tag}: set to {manifest.digest}")


register(
    JobType(
        REPLICATION,
        run,
        "Copy one artifact of a replication policy to its destination, or pull it from "
        "its source (children first, blob by blob, tags last; override, speed, "
        "copy_by_chunk).",
        max_retries=2,
        backoff_seconds=5.0,
        max_backoff_seconds=60.0,
    )
)
