"""Copy an artifact between repositories by adding rows, never by moving bytes: the target
repository gets new artifact, tag and reference rows and links to the same blobs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from harbor_api.db.base import utcnow
from harbor_api.db.models import (
    Artifact,
    ArtifactReference,
    Blob,
    Repository,
    RepositoryBlob,
    Tag,
)
from harbor_api.errors import BadRequestError, NotFoundError
from harbor_api.registry.digest import is_digest
from harbor_api.registry.manifests import parse_manifest
from harbor_api.registry.names import is_tag, validate_repository_name
from harbor_api.registry.paths import blob_key
from harbor_api.services import audit, immutability
from harbor_api.services.context import RequestContext
from harbor_api.services.lookup import (
    artifact,
    authorized_project,
    full_repository_name,
    refuse_proxy_content,
)
from harbor_api.services.oci import quota_checks
from harbor_api.services.oci.repositories import ensure_repository, link_blob


def parse_source(source: str) -> tuple[str, str, str]:
    """``project/repo@sha256:…`` or ``project/repo:tag`` → (project, repository, reference)."""
    if "@" in source:
        name, reference = source.split("@", 1)
        valid = is_digest(reference)
    else:
        name, sep, reference = source.rpartition(":")
        valid = bool(sep) and "/" not in reference and is_tag(reference)
    if not valid or "/" not in name:
        raise BadRequestError(
            f"invalid from {source[:300]!r}: expected "
            "project/repository@digest or project/repository:tag"
        )
    project, path = name.split("/", 1)
    return project, path, reference


def copy_artifact(
    ctx: RequestContext, project_name: str, repository_name: str, source: str
) -> tuple[str, str]:
    """Returns (target repository full name, digest)."""
    src_project, src_path, reference = parse_source(source)
    target_name = validate_repository_name(full_repository_name(project_name, repository_name))
    with ctx.db.transaction() as s:
        src_proj = authorized_project(s, ctx.principal, src_project, "repository", "pull")
        src_repo = s.scalar(
            select(Repository).where(
                Repository.name == f"{src_project}/{src_path}", Repository.project_id == src_proj.id
            )
        )
        if src_repo is None:
            raise NotFoundError(f"repository {src_project}/{src_path} not found")
        found = artifact(s, src_repo, reference)
        project = authorized_project(s, ctx.principal, project_name, "artifact", "create")
        refuse_proxy_content(project, "copy an artifact")
        quota_checks.lock(s, project.id)  # first write, as every link takes it (no deadlock)
        target_id = ensure_repository(s, target_name, project.id)
        if target_id == src_repo.id:
            raise BadRequestError("source and target repositories are the same")
        copied = _copy(s, ctx.app.storage, found, target_id, project.id)
        for tag in s.scalars(select(Tag).where(Tag.artifact_id == found.id)):
            _put_tag(s, target_id, tag.name, copied.id)
        audit.record(
            s, ctx.principal, "create", "artifact", f"{target_name}@{found.digest}", project.id
        )
        return target_name, found.digest


def _copy(s: Session, storage: Any, src: Artifact, target_id: int, project_id: int) -> Artifact:
    existing = s.scalar(
        select(Artifact).where(Artifact.repository_id == target_id, Artifact.digest == src.digest)
    )
    if existing is not None:
        return existing
    children = []
    for ref in s.scalars(select(ArtifactReference).where(ArtifactReference.parent_id == src.id)):
        child = s.get(Artifact, ref.child_id)
        if child is not None:
            children.append((ref, _copy(s, storage, child, target_id, project_id)))
    _link_blobs(s, storage, src, target_id, project_id)
    copy = Artifact(
        repository_id=target_id,
        digest=src.digest,
        media_type=src.media_type,
        manifest_media_type=src.manifest_media_type,
        artifact_type=src.artifact_type,
        size=src.size,
        config_digest=src.config_digest,
        subject_digest=src.subject_digest,
        annotations=src.annotations,
        push_time=utcnow(),
    )
    s.add(copy)
    s.flush()
    for ref, child in children:
        s.add(
            ArtifactReference(
                parent_id=copy.id,
                child_id=child.id,
                child_digest=ref.child_digest,
                platform=ref.platform,
                annotations=ref.annotations,
            )
        )
    return copy


def _link_blobs(s: Session, storage: Any, src: Artifact, target_id: int, project_id: int) -> None:
    """Link the manifest and every blob it references (config, layers) to the target, as
    far as the source repository holds them: a copy never makes visible what the caller
    could not pull from the source. Each link is charged to the target project's quota, as
    a push's is (a copy past the limit is refused)."""
    digests = {src.digest}
    try:
        parsed = parse_manifest(storage.get(blob_key(src.digest)), src.manifest_media_type)
        digests |= {
            d.digest
            for d in ([parsed.config] if parsed.config else []) + list(parsed.layers)
            if not d.is_foreign
        }
    except Exception as exc:
        raise NotFoundError(f"manifest {src.digest} is not readable from storage") from exc
    held = (
        select(Blob)
        .join(RepositoryBlob, RepositoryBlob.blob_id == Blob.id)
        .where(RepositoryBlob.repository_id == src.repository_id, Blob.digest.in_(digests))
    )
    for blob in s.scalars(held):
        quota_checks.charge_link(s, project_id, blob.digest, blob.size)
        link_blob(
            s,
            target_id,
            blob.digest,
            blob.size,
            blob.media_type,
            lambda digest: storage.exists(blob_key(digest)),
        )


def _put_tag(s: Session, repo_id: int, name: str, artifact_id: int) -> None:
    tag = s.scalar(select(Tag).where(Tag.repository_id == repo_id, Tag.name == name))
    if tag is None:
        s.add(Tag(repository_id=repo_id, artifact_id=artifact_id, name=name, push_time=utcnow()))
    else:
        if tag.artifact_id != artifact_id:
            immutability.check_tag_change(s, repo_id, name)
        tag.artifact_id = artifact_id
        tag.push_time = utcnow()
