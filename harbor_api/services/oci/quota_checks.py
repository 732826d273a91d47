"""Project storage quotas at push time: reserve, charge, release and give back.

The quota row of a project (``db.models.Quota``) holds ``hard`` (-1: unlimited), ``used``
(distinct blobs linked into the project's repositories) and ``reserved`` (bytes upload
sessions hold). The rule ``used + reserved <= hard`` is kept by conditional UPDATEs of that
one row, so 20 concurrent pushes never overshoot:

* a chunk of declared length reserves its bytes before a byte is stored (one UPDATE …
  WHERE used + reserved + n <= hard); a chunk of unknown length is capped at what is left
  and reserves what it wrote before it is committed;
* linking a blob (finish, mount, manifest put) locks the row, charges the blob when it is
  new to the project and gives back the session's reservation, in the link's transaction;
* cancel and the stale-session sweep give a session's reservation back; deletes recount.

A refusal is Harbor's: ``DENIED`` with its ResourceOverflow wording. Crossing 85 % and a
refusal are published as ``QUOTA_WARNING`` / ``QUOTA_EXCEED`` (see :mod:`.quota_events`).
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Table, and_, delete, func, literal, or_, select, update
from sqlalchemy.orm import Session

from harbor_api.db.base import utcnow
from harbor_api.db.models import (
    Artifact,
    ArtifactBlob,
    Blob,
    Project,
    Quota,
    Repository,
    RepositoryBlob,
    Upload,
)
from harbor_api.errors import DeniedError
from harbor_api.services.oci import quota_events

_QUOTAS = cast(Table, Quota.__table__)
_PROJECTS = cast(Table, Project.__table__)
_UPLOADS = cast(Table, Upload.__table__)
UNLIMITED = -1


def format_bytes(value: int) -> str:
    """Harbor's display of a storage amount: ``512 B``, ``10.0 MiB``."""
    if value < 1024:
        return f"{value} B"
    div, exp = 1024, 0
    n = value // 1024
    while n >= 1024:
        div *= 1024
        exp += 1
        n //= 1024
    return f"{value / div:.1f} {'KMGTPE'[exp]}iB"


def overflow_message(adding: int, used: int, hard: int) -> str:
    """Harbor's ResourceOverflow wording (``src/pkg/quota/errors``)."""
    return (
        f"adding {format_bytes(adding)} of storage resource, which when updated to "
        f"current usage of {format_bytes(used)} will exceed the configured upper limit "
        f"of {format_bytes(hard)}."
    )


def create_quota(session: Session, project_id: int, hard: int) -> None:
    session.add(Quota(project_id=project_id, hard=hard, used=0, reserved=0))


def _row(session: Session, project_id: int) -> tuple[int, int, int] | None:
    row = (
        session.connection()
        .execute(
            select(_QUOTAS.c.hard, _QUOTAS.c.used, _QUOTAS.c.reserved).where(
                _QUOTAS.c.project_id == project_id
            )
        )
        .first()
    )
    return (int(row[0]), int(row[1]), int(row[2])) if row else None


def overflow_error(session: Session, project_id: int, adding: int) -> DeniedError:
    """The refusal of ``adding`` bytes, in Harbor's words (usage includes reservations)."""
    row = _row(session, project_id)
    hard, used, reserved = row if row else (UNLIMITED, 0, 0)
    return DeniedError(overflow_message(adding, used + reserved, hard))


def _refuse(session: Session, project_id: int, adding: int) -> DeniedError:
    error = overflow_error(session, project_id, adding)
    quota_events.publish(quota_events.QUOTA_EXCEED, project_id, error.message)
    return error


def _after_change(session: Session, project_id: int, before: int) -> None:
    """Publish QUOTA_WARNING when usage crosses 85 % of the limit."""
    row = _row(session, project_id)
    if row is None or row[0] <= 0:
        return
    hard, used, reserved = row
    threshold = hard * quota_events.WARNING_PERCENT // 100
    if before < threshold <= used + reserved:
        quota_events.publish(
            quota_events.QUOTA_WARNING,
            project_id,
            f"quota usage reach {quota_events.WARNING_PERCENT}%: resource "
            f"storage used {format_bytes(used + reserved)} of "
            f"{format_bytes(hard)}",
        )


def is_limited(session: Session, project_id: int) -> bool:
    """Whether the project has a limit (unlimited projects skip reservations: one read)."""
    row = _row(session, project_id)
    return row is not None and row[0] >= 0


def check_fits(session: Session, project_id: int, digest: str, declared: int) -> None:
    """Refuse (DENIED) a whole blob of ``declared`` bytes that cannot fit, before it is
    received (no reservation: its link checks again, atomically)."""
    row = _row(session, project_id)
    if row is None or row[0] < 0 or row[1] + row[2] + declared <= row[0]:
        return
    if not in_project(session, project_id, digest):
        raise _refuse(session, project_id, declared)


def allowance(session: Session, project_id: int, upload_id: str, offset: int) -> int | None:
    """How far a chunk of unknown length may take the session past ``offset``: what is free
    under the limit plus what the session already holds past it (None: unlimited)."""
    row = _row(session, project_id)
    if row is None or row[0] < 0:
        return None
    held = (
        session.connection()
        .execute(select(_UPLOADS.c.reserved).where(_UPLOADS.c.uuid == upload_id))
        .scalar()
        or 0
    )
    return max(row[0] - row[1] - row[2], 0) + max(int(held) - offset, 0)


def reserve(session: Session, project_id: int, upload_id: str, n: int) -> None:
    """Hold ``n`` more bytes for the session, or refuse (DENIED) when they do not fit."""
    if n <= 0:
        return
    before = _row(session, project_id)
    q = _QUOTAS.c
    result: CursorResult[Any] = session.connection().execute(
        update(_QUOTAS)
        .where(q.project_id == project_id, or_(q.hard < 0, q.used + q.reserved + n <= q.hard))
        .values(reserved=q.reserved + n, update_time=utcnow())
    )
    if not result.rowcount:
        if before is None:
            return  # a project without a quota row: nothing to hold
        raise _refuse(session, project_id, n)
    session.connection().execute(
        update(_UPLOADS)
        .where(_UPLOADS.c.uuid == upload_id)
        .values(reserved=_UPLOADS.c.reserved + n)
    )
    if before is not None:
        _after_change(session, project_id, before[1] + before[2])


def cover(session: Session, project_id: int, upload_id: str, size: int) -> None:
    """Make the session's reservation cover ``size`` bytes (what a chunk of unknown length
    wrote), or refuse."""
    held = (
        session.connection()
        .execute(select(_UPLOADS.c.reserved).where(_UPLOADS.c.uuid == upload_id))
        .scalar()
        or 0
    )
    if size > held:
        reserve(session, project_id, upload_id, size - int(held))


def held_by(session: Session, upload_id: str) -> tuple[str, int] | None:
    """(project name, bytes) the session holds toward its quota (None: nothing)."""
    row = (
        session.connection()
        .execute(
            select(_UPLOADS.c.reserved, _UPLOADS.c.repository).where(_UPLOADS.c.uuid == upload_id)
        )
        .first()
    )
    if row is None or not row[0]:
        return None
    return str(row[1]).split("/", 1)[0], int(row[0])


def give_back(session: Session, held: tuple[str, int] | None) -> None:
    """Return what :func:`held_by` found (after the session's row went)."""
    if held is None:
        return
    project_id = select(Project.id).where(Project.name == held[0]).scalar_subquery()
    _give_back(session, project_id, held[1])


def release_upload(session: Session, upload_id: str) -> None:
    """Give the session's reservation back (cancel); call before removing its row."""
    held = held_by(session, upload_id)
    give_back(session, held)
    if held is not None:
        session.connection().execute(
            update(_UPLOADS).where(_UPLOADS.c.uuid == upload_id).values(reserved=0)
        )


def _give_back(session: Session, project_id: Any, held: int) -> None:
    q = _QUOTAS.c
    session.connection().execute(
        update(_QUOTAS)
        .where(q.project_id == project_id)
        .values(
            reserved=func.max(q.reserved - held, 0)
            if session.get_bind().dialect.name == "sqlite"
            else func.greatest(q.reserved - held, 0),
            update_time=utcnow(),
        )
    )


def lock(session: Session, project_id: int) -> tuple[int, int, int] | None:
    """Take the project's quota row (first write of the transaction): concurrent links of
    one project serialise here, so "is this blob new to the project" is answered once.
    On PostgreSQL the project row is locked first (``FOR NO KEY UPDATE``: inserts that
    reference the project still pass), so a project without a quota row (a database restored
    from before quotas, until the next start gives it one) serialises too: pushes against
    deletes that unlink (docs/gc.md).
    Returns the quota row (hard, used, reserved) read under the lock, None without one."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection().execute(
            select(_PROJECTS.c.id)
            .where(_PROJECTS.c.id == project_id)
            .with_for_update(key_share=True)
        )
    row = (
        session.connection()
        .execute(
            update(_QUOTAS)
            .where(_QUOTAS.c.project_id == project_id)
            .values(reserved=_QUOTAS.c.reserved)
            .returning(_QUOTAS.c.hard, _QUOTAS.c.used, _QUOTAS.c.reserved)
        )
        .first()
    )
    return (int(row[0]), int(row[1]), int(row[2])) if row else None


def in_project(session: Session, project_id: int, digest: str) -> bool:
    return (
        session.connection()
        .execute(
            select(literal(1))
            .select_from(RepositoryBlob)
            .join(Repository, Repository.id == RepositoryBlob.repository_id)
            .where(Repository.project_id == project_id, RepositoryBlob.digest == digest)
            .limit(1)
        )
        .first()
        is not None
    )


def charge_link(
    session: Session, project_id: int, digest: str, size: int, upload_id: str | None = None
) -> None:
    """Before ``digest`` is linked into a repository of the project: charge it when it is new
    to the project (refusing when it does not fit beside what others hold) and turn the
    session's reservation into usage. Call first in the link's transaction."""
    row = lock(session, project_id)
    if row is None:
        return
    hard, used, reserved = row
    held = 0
    if upload_id is not None:
        held = int(
            session.connection()
            .execute(select(_UPLOADS.c.reserved).where(_UPLOADS.c.uuid == upload_id))
            .scalar()
            or 0
        )
    charge = 0 if in_project(session, project_id, digest) else size
    others = max(reserved - held, 0)
    if charge and hard >= 0 and used + others + charge > hard:
        raise _refuse(session, project_id, charge)
    q = _QUOTAS.c
    session.connection().execute(
        update(_QUOTAS)
        .where(q.project_id == project_id)
        .values(used=q.used + charge, reserved=others, update_time=utcnow())
    )
    if upload_id is not None and held:
        session.connection().execute(
            update(_UPLOADS).where(_UPLOADS.c.uuid == upload_id).values(reserved=0)
        )
    _after_change(session, project_id, used + reserved)


def project_usage(session: Session, project_id: int) -> int:
    """Distinct blobs linked into the project's repositories, in bytes."""
    digests = (
        select(RepositoryBlob.digest)
        .join(Repository, Repository.id == RepositoryBlob.repository_id)
        .where(Repository.project_id == project_id)
        .distinct()
        .scalar_subquery()
    )
    return int(
        session.scalar(
            select(func.coalesce(func.sum(Blob.size), 0)).where(Blob.digest.in_(digests))
        )
        or 0
    )


def recount(session: Session, project_id: int) -> None:
    """Set ``used`` from the links (after deletes took some away). Locks the row first."""
    lock(session, project_id)
    session.connection().execute(
        update(_QUOTAS)
        .where(and_(_QUOTAS.c.project_id == project_id))
        .values(used=project_usage(session, project_id), update_time=utcnow())
    )


def record_artifact_blobs(session: Session, artifact_id: int, digests: set[str]) -> None:
    """Remember the blobs a new artifact references (see :func:`unlink_unreferenced`)."""
    if digests:
        session.execute(
            cast(Table, ArtifactBlob.__table__).insert(),
            [{"artifact_id": artifact_id, "digest": d} for d in sorted(digests)],
        )


def artifact_digests(session: Session, artifact: Artifact) -> set[str]:
    """The manifest and the blobs of ``artifact`` (read before it is deleted)."""
    return {artifact.digest} | set(
        session.scalars(select(ArtifactBlob.digest).where(ArtifactBlob.artifact_id == artifact.id))
    )


def unlink_unreferenced(session: Session, repo_id: int, digests: set[str]) -> None:
    """After an artifact delete: unlink from the repository those of ``digests`` that no
    remaining artifact of it is or references, so their bytes leave the project's usage
    (and, unreferenced anywhere, wait for garbage collection)."""
    if not digests:
        return
    still = set(
        session.scalars(
            select(ArtifactBlob.digest)
            .join(Artifact, Artifact.id == ArtifactBlob.artifact_id)
            .where(Artifact.repository_id == repo_id, ArtifactBlob.digest.in_(digests))
        )
    )
    still |= set(
        session.scalars(
            select(Artifact.digest).where(
                Artifact.repository_id == repo_id, Artifact.digest.in_(digests)
            )
        )
    )
    gone = digests - still
    if gone:
        session.execute(
            delete(RepositoryBlob).where(
                RepositoryBlob.repository_id == repo_id, RepositoryBlob.digest.in_(gone)
            )
        )


def give_back_deleted(
    session: Session, repo_id: int, digests: set[str], project_id: int | None = None
) -> None:
    """After an artifact delete: unlink what nothing references any more and recount the
    project's usage (``project_id``: the repository's, when the caller read it already)."""
    unlink_unreferenced(session, repo_id, digests)
    if project_id is None:
        project_id = session.scalar(select(Repository.project_id).where(Repository.id == repo_id))
    if project_id is not None:
        recount(session, project_id)
