"""Upload session rows: the offset of every session lives here, not in process memory."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import CursorResult, Table, delete, func, insert, select, update
from sqlalchemy.orm import Session

from harbor_api.db.base import utcnow
from harbor_api.db.models import Upload

# The hot writes run on the session's connection (Core): the ORM's bulk UPDATE/DELETE path
# evaluates its criteria against the identity map first, several times the cost of the SQL.
_UPLOADS = cast(Table, Upload.__table__)


def create_upload(
    session: Session, upload_id: str, repository: str, key: str, owner: str | None = None
) -> None:
    now = utcnow()
    session.connection().execute(
        insert(_UPLOADS).values(
            uuid=upload_id,
            repository=repository,
            storage_key=key,
            size=0,
            created=now,
            updated=now,
            owner=owner,
        )
    )


def owner_totals(session: Session, owner: str) -> tuple[int, int]:
    """(open sessions, bytes they hold) of one owner."""
    count, total = (
        session.connection()
        .execute(
            select(func.count(), func.coalesce(func.sum(_UPLOADS.c.size), 0)).where(
                _UPLOADS.c.owner == owner
            )
        )
        .one()
    )
    return int(count), int(total)


def upload_owner(session: Session, upload_id: str) -> str | None:
    """The account the session's bytes count against (None: none, or no such session)."""
    return (
        session.connection()
        .execute(select(_UPLOADS.c.owner).where(_UPLOADS.c.uuid == upload_id))
        .scalar()
    )


def upload_offset(session: Session, upload_id: str, repository: str) -> int | None:
    """The session's offset (None: no such session), one indexed Core read."""
    return (
        session.connection()
        .execute(
            select(_UPLOADS.c.size).where(
                _UPLOADS.c.uuid == upload_id, _UPLOADS.c.repository == repository
            )
        )
        .scalar()
    )


def advance_upload(session: Session, upload_id: str, expected: int, new_size: int) -> bool:
    """Move the offset from ``expected`` to ``new_size``; False when another request won."""
    result: CursorResult[Any] = session.connection().execute(
        update(_UPLOADS)
        .where(_UPLOADS.c.uuid == upload_id, _UPLOADS.c.size == expected)
        .values(size=new_size, verified_digest=None, updated=utcnow())
    )
    return bool(result.rowcount)


def record_digest(session: Session, upload_id: str, size: int, digest: str) -> bool:
    """Record what the session's first ``size`` bytes hash to (before a finish moves them
    under their blob key); False when the session is gone or no longer at ``size``."""
    result: CursorResult[Any] = session.connection().execute(
        update(_UPLOADS)
        .where(_UPLOADS.c.uuid == upload_id, _UPLOADS.c.size == size)
        .values(verified_digest=digest)
    )
    return bool(result.rowcount)


def verified_digest(session: Session, upload_id: str, size: int) -> str | None:
    """The digest a finish recorded for the session at ``size`` bytes (None: none)."""
    return (
        session.connection()
        .execute(
            select(_UPLOADS.c.verified_digest).where(
                _UPLOADS.c.uuid == upload_id, _UPLOADS.c.size == size
            )
        )
        .scalar()
    )


def remove_upload(session: Session, upload_id: str) -> None:
    session.connection().execute(delete(_UPLOADS).where(_UPLOADS.c.uuid == upload_id))


def stale_upload_ids(session: Session, older_than: dt.datetime, limit: int = 1000) -> list[str]:
    """Ids of sessions untouched since ``older_than`` (oldest first, at most ``limit``)."""
    return list(
        session.scalars(
            select(Upload.uuid)
            .where(Upload.updated < older_than)
            .order_by(Upload.updated)
            .limit(limit)
        )
    )


def remove_stale_upload(session: Session, upload_id: str, older_than: dt.datetime) -> bool:
    """Remove the session's row if it is still untouched since ``older_than`` (a request
    may have advanced it since it was listed); True when removed."""
    result: CursorResult[Any] = session.connection().execute(
        delete(_UPLOADS).where(_UPLOADS.c.uuid == upload_id, _UPLOADS.c.updated < older_than)
    )
    return bool(result.rowcount)


def known_upload_ids(session: Session, upload_ids: list[str]) -> set[str]:
    """Which of ``upload_ids`` have a session row."""
    return set(session.scalars(select(Upload.uuid).where(Upload.uuid.in_(upload_ids))))
