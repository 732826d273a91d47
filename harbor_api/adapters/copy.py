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
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from harbor_api.adapters.base import Adapter, AdapterError

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
) -> tuple[str, CopyReport]:
    """Copy ``src_repo:reference`` to ``dst_repo:dst_reference`` (default: the same
    reference); returns the manifest digest and what was moved. ``chunk_size`` uploads
    each blob in PATCHes of that size instead of one streamed PUT."""
    report = CopyReport()
    digest = _copy_manifest(
        src,
        dst,
        src_repo,
        reference,
        dst_repo,
        dst_reference or reference,
        mount_from,
        chunk_size,
        report,
    )
    return digest, report


def _copy_manifest(
    src, dst, src_repo, reference, dst_repo, dst_reference, mount_from, chunk_size, report
) -> str:
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
                    src,
                    dst,
                    src_repo,
                    child["digest"],
                    dst_repo,
                    child["digest"],
                    mount_from,
                    chunk_size,
                    report,
                )
    else:
        blobs = [body["config"]] if body.get("config") else []
        for blob in blobs + list(body.get("layers") or []):
            _copy_blob(
                src,
                dst,
                src_repo,
                dst_repo,
                blob["digest"],
                int(blob["size"]),
                mount_from,
                chunk_size,
                report,
            )
    answered = dst.put_manifest(dst_repo, dst_reference, manifest.content, media_type)
    if answered and answered != digest:
        raise AdapterError(
            f"{dst_repo}:{dst_reference}: the destination stored digest "
            f"{answered}, expected {digest}"
        )
    report.manifests += 1
    return digest


def _copy_blob(src, dst, src_repo, dst_repo, digest, size, mount_from, chunk_size, report) -> None:
    if dst.blob_exists(dst_repo, digest):
        report.blobs_present += 1
        return
    for other in mount_from:
        if other != dst_repo and dst.mount_blob(dst_repo, digest, other):
            report.blobs_mounted += 1
            return
    if chunk_size:

        @contextmanager
        def source(offset: int):
            with src.pull_blob(src_repo, digest, offset) as reader:
                yield reader

        dst.push_blob_chunked(dst_repo, digest, size, source, chunk_size)
    else:
        with src.pull_blob(src_repo, digest) as reader:
            dst.push_blob(dst_repo, digest, size, reader.chunks)
    report.blobs_sent += 1
    report.bytes_sent += size
