"""Repositories and the per-repository blob links that make content visible."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from sqlalchemy import CursorResult, bindparam, delete, select
from sqlalchemy.orm import Session

from harbor_api.auth.principal import Principal
from harbor_api.auth.rbac import visible_project_filter
from harbor_api.db.base import utcnow
from harbor_api.db.models import Artifact, Blob, Project, Repository, RepositoryBlob
from harbor_api.services.oci import blob_states
from harbor_api.services.oci.upserts import insert_ignoring_conflicts, table


class ProjectRef(NamedTuple):
    """The little the /v2 edge needs of a project (no ORM entity: cheaper on hot paths)."""

    id: int
    name: str
    registry_id: int | None = None  # set: a proxy-cache project of that registry endpoint


# Hot-path statements are built once; only the bound values change per request. The hot
# read helpers run them on the session's connection (Core): the ORM execution path costs
# several times more for a 1-row select. (No autoflush there: they are called before any
# change in their transaction.)
_PROJECT_BY_NAME = select(Project.id, Project.name, Project.registry_id).where(
    Project.name == bindparam("name")
)
_REPOSITORY_ID = select(Repository.id).where(Repository.name == bindparam("name"))
_LINKED_BLOB_SIZE = (
    select(Blob.size)
    .join(RepositoryBlob, RepositoryBlob.blob_id == Blob.id)
    .join(Repository, Repository.id == RepositoryBlob.repository_id)
    .where(
        Repository.name == bindparam("name"),
        RepositoryBlob.digest == bindparam("digest"),
        Blob.status == blob_states.LIVE,  # one a collection is deleting is gone already
    )
)


def project_by_name(session: Session, name: str) -> ProjectRef | None:
    row = session.connection().execute(_PROJECT_BY_NAME, {"name": name}).first()
    return ProjectRef(*row) if row else None


def repository_id(session: Session, name: str) -> int | None:
    return session.connection().execute(_REPOSITORY_ID, {"name": name}).scalar()


def ensure_repository(session: Session, name: str, project_id: int) -> int:
    found = repository_id(session, name)
    if found is not None:
        return found
    now = utcnow()
    insert_ignoring_conflicts(
        session,
        Repository,
        {
            "name": name,
            "project_id": project_id,
            "description": "",
            "pull_count": 0,
            "creation_time": now,
            "update_time": now,
        },
    )
    found = repository_id(session, name)
    assert found is not None
    return found


def linked_blob_size(session: Session, name: str, digest: str) -> int | None:
    """The size of ``digest`` when it is visible in repository ``name`` (one indexed query)."""
    return (
        session.connection().execute(_LINKED_BLOB_SIZE, {"name": name, "digest": digest}).scalar()
    )


def missing_blobs(session: Session, repo_id: int, digests: set[str]) -> set[str]:
    if not digests:
        return set()
    present = set(
        session.scalars(
            select(RepositoryBlob.digest).where(
                RepositoryBlob.repository_id == repo_id, RepositoryBlob.digest.in_(digests)
            )
        )
    )
    return digests - present


def link_blob(
    session: Session,
    repo_id: int,
    digest: str,
    size: int,
    media_type: str,
    stored: Callable[[str], bool],
) -> None:
    """Record the blob (once) and make it visible in the repository (idempotent). The row
    is held for garbage collection (``blob_states.hold``: live, locked, bytes present in
    ``stored``), else BLOB_UPLOAD_UNKNOWN: push it again."""
    blob_id = blob_states.hold(session, digest, size, media_type, stored)
    insert_ignoring_conflicts(
        session,
        RepositoryBlob,
        {"repository_id": repo_id, "blob_id": blob_id, "digest": digest, "creation_time": utcnow()},
    )


def unlink_blob(session: Session, name: str, digest: str) -> bool:
    repo_id = repository_id(session, name)
    if repo_id is None:
        return False
    result: CursorResult[Any] = session.connection().execute(
        delete(table(RepositoryBlob)).where(
            RepositoryBlob.repository_id == repo_id, RepositoryBlob.digest == digest
        )
    )
    return bool(result.rowcount)


def stored_blob_size(session: Session, digest: str) -> int | None:
    return session.scalar(
        select(Blob.size).where(Blob.digest == digest, Blob.status == blob_states.LIVE)
    )


def catalog(
    session: Session, principal: Principal, limit: int | None, last: str | None
) -> list[str]:
    """Names of the repositories (holding at least one artifact) the caller can see."""
    query = (
        select(Repository.name)
        .join(Project, Project.id == Repository.project_id)
        .where(select(Artifact.id).where(Artifact.repository_id == Repository.id).exists())
        .order_by(Repository.name)
    )
    condition = visible_project_filter(principal)
    if condition is not None:
        query = query.where(condition)
    if last:
        query = query.where(Repository.name > last)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))
