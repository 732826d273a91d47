"""Copy one artifact between two adapters, blob by blob: what a replication task does.

Blobs the destination has are skipped (HEAD), then mounted from a repository of the
destination that holds them, and only then streamed from the source, chunk by chunk; the
children of an index go before the index, and the manifest goes last, so a tag never
points at missing content. The destination verifies every digest; the manifest's digest
is checked against what it answers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from harbor_api.adapters.base import Adapter, AdapterError, Manifest, Upload

INDEX_TYPES = {
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
}


@dataclass
class CopyReport:
    manifests: int = 0
    blobs_sent: int = 0
    blobs_present: int = 0
    blobs_mounted: int = 0
    bytes_sent: int = 0
    resumed: list[tuple[str, int]] = field(default_factory=list)  # (digest, offset)
    manifest: Manifest | None = None  # the artifact's own (top) manifest, as the source sent it


@dataclass(frozen=True)
class ResumePoint:
    """A chunked blob upload in progress at the destination: where to continue it."""

    digest: str
    upload: Upload


@dataclass(frozen=True)
class _Options:
    mount_from: Sequence[str]
    chunk_size: int | None
    resume: ResumePoint | None
    on_chunk: Callable[[ResumePoint], None] | None


def copy_artifact(
    src: Adapter,
    dst: Adapter,
    src_repo: str,
    reference: str,
    dst_repo: str,
    dst_reference: str | None = None,
    *,
    mount_from: Sequence[str] = (),
    chunk_size: int | None = None,
    resume: ResumePoint | None = None,
    on_chunk: Callable[[ResumePoint], None] | None = None,
) -> tuple[str, CopyReport]:
    """Copy ``src_repo:reference`` to ``dst_repo:dst_reference`` (default: the same
    reference); returns the manifest digest and what was moved. ``chunk_size`` uploads
    each blob in chunks of that size instead of one streamed PUT; ``on_chunk`` hears of
    every chunk the destination acknowledged, and ``resume`` (what it heard last, in an
    earlier run) continues that blob's upload where it stopped instead of starting over."""
    report = CopyReport()
    dst.prepare_push(dst_repo)
    options = _Options(mount_from, chunk_size, resume, on_chunk)
    digest = _copy_manifest(
        src, dst, src_repo, reference, dst_repo, dst_reference or reference, options, report
    )
    return digest, report


def _copy_manifest(src, dst, src_repo, reference, dst_repo, dst_reference, options, report) -> str:
    manifest = src.get_manifest(src_repo, reference)
    digest = "sha256:" + hashlib.sha256(manifest.content).hexdigest()
    if manifest.digest and manifest.digest != digest:
        raise AdapterError(
            f"{src_repo}:{reference}: the source sent a manifest whose "
            f"digest is {digest}, not {manifest.digest}"
        )
    body = json.loads(manifest.content)
    media_type = manifest.media_type or body.get("mediaType", "")
    if media_type in INDEX_TYPES or "manifests" in body:
        for child in body.get("manifests") or []:
            if dst.head_manifest(dst_repo, child["digest"]) is None:
                _copy_manifest(
                    src, dst, src_repo, child["digest"], dst_repo, child["digest"], options, report
                )
    else:
        blobs = [body["config"]] if body.get("config") else []
        for blob in blobs + list(body.get("layers") or []):
            _copy_blob(
                src, dst, src_repo, dst_repo, blob["digest"], int(blob["size"]), options, report
            )
    answered = dst.put_manifest(dst_repo, dst_reference, manifest.content, media_type)
    if answered and answered != digest:
        raise AdapterError(
            f"{dst_repo}:{dst_reference}: the destination stored digest "
            f"{answered}, expected {digest}"
        )
    report.manifests += 1
    report.manifest = manifest  # children finish first: the top manifest is the last one
    return digest


def _copy_blob(src, dst, src_repo, dst_repo, digest, size, options, report) -> None:
    if dst.blob_exists(dst_repo, digest):
        report.blobs_present += 1
        return
    for other in options.mount_from:
        if other != dst_repo and dst.mount_blob(dst_repo, digest, other):
            report.blobs_mounted += 1
            return
    if options.chunk_size:

        @contextmanager
        def source(offset: int):
            with src.pull_blob(src_repo, digest, offset) as reader:
                yield reader

        resume = options.resume
        upload = (
            resume.upload
            if resume and resume.digest == digest and resume.upload.repository == dst_repo
            else None
        )
        acknowledged = options.on_chunk

        def heard(sent: Upload) -> None:
            if acknowledged is not None:
                acknowledged(ResumePoint(digest, sent))

        started = dst.push_blob_chunked(
            dst_repo, digest, size, source, options.chunk_size, upload, heard
        )
        if started:
            report.resumed.append((digest, started))
        report.bytes_sent += size - (started or 0)
    else:
        with src.pull_blob(src_repo, digest) as reader:
            dst.push_blob(dst_repo, digest, size, reader.chunks)
        report.bytes_sent += size
    report.blobs_sent += 1
