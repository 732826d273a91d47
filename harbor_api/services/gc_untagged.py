"""``delete_untagged`` of garbage collection (``docs/gc.md``): untagged artifacts go before
the mark, by the one delete-artifact rule (``oci.artifacts.delete_artifact``: with the
accessories and index children nothing else needs).

An artifact is kept while a tag names it, an index lists it (a child of an index is the
index's to keep), or it is an accessory (``subject``) of an artifact of its repository (it
goes with that artifact); and while it was pushed within the grace window (a client pushing
an index pushes its untagged children first).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import aliased

from harbor_api.db.base import utcnow
from harbor_api.db.models import Artifact, ArtifactReference, Repository, Tag
from harbor_api.db.session import Database
from harbor_api.errors import BadRequestError
from harbor_api.services.oci import artifacts, quota_checks

_SUBJECT = aliased(Artifact)


def deletable(cutoff: dt.datetime):
    """The condition on an artifact row that ``delete_untagged`` deletes."""
    return and_(
        Artifact.push_time < cutoff,
        ~exists().where(Tag.artifact_id == Artifact.id),
        ~exists().where(ArtifactReference.child_id == Artifact.id),
        or_(
            Artifact.subject_digest.is_(None),
            ~exists().where(
                _SUBJECT.repository_id == Artifact.repository_id,
                _SUBJECT.digest == Artifact.subject_digest,
            ),
        ),
    )


@dataclass
class UntaggedReport:
    artifacts: int = 0  # deleted (with the accessories and children that went with them)
    stopped: bool = False


def candidates(db: Database, cutoff: dt.datetime) -> list[int]:
    with db.read() as s:
        return list(s.scalars(select(Artifact.id).where(deletable(cutoff)).order_by(Artifact.id)))


def delete_untagged(
    db: Database,
    grace_seconds: float,
    dry_run: bool,
    should_stop: Callable[[], bool] = lambda: False,
) -> UntaggedReport:
    report = UntaggedReport()
    cutoff = utcnow() - dt.timedelta(seconds=grace_seconds)
    ids = candidates(db, cutoff)
    if dry_run:
        report.artifacts = len(ids)
        return report
    for artifact_id in ids:
        if should_stop():
            report.stopped = True
            break
        report.artifacts += _delete_one(db, artifact_id, cutoff)
    return report


def _delete_one(db: Database, artifact_id: int, cutoff: dt.datetime) -> int:
    """Delete one candidate if it still is one. The project's quota row, then the artifact
    row are locked first (PostgreSQL), so a
    concurrent tag or index reference either committed before the re-check (kept) or waits
    and then finds it gone (that push is refused and retried by its client)."""
    with db.transaction() as s:
        project_id = s.scalar(
            select(Repository.project_id)
            .join(Artifact, Artifact.repository_id == Repository.id)
            .where(Artifact.id == artifact_id)
        )
        if project_id is None:
            return 0
        quota_checks.lock(s, project_id)  # first, as a push takes it first (no deadlock)
        s.execute(select(Artifact.id).where(Artifact.id == artifact_id).with_for_update())
        artifact = s.scalar(select(Artifact).where(Artifact.id == artifact_id, deletable(cutoff)))
        if artifact is None:
            return 0
        try:
            return artifacts.delete_artifact(s, artifact)
        except BadRequestError:  # an index took it meanwhile
            return 0
