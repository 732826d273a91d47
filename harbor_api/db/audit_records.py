"""Audit-log rows, added to the caller's session (the lowest layer of auditing), chained.

:mod:`harbor_api.services.audit` records a principal's operations through it; ``auth``
records refused logins and denials through it directly (auth sits below the services).

Tamper evidence: every row carries ``hash`` = SHA-256 over the previous row's hash and its
own fields (:func:`row_hash`; never change the encoding: stored chains depend on it). Appends
first *write* the chain head (``UPDATE … appends + 1``), which takes its row lock on
PostgreSQL and the database write lock on SQLite before the head is read, so concurrent
writers (threads or processes) append one after the other and the chain stays linear; the
lock is held until the caller's transaction ends. Purges (:func:`purge_records`) record a
checkpoint for every gap they leave, so the chain still verifies after them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from harbor_api.db.base import utcnow
from harbor_api.db.models import AuditChainCheckpoint, AuditChainHead, AuditLog

GENESIS = "0" * 64  # the previous hash of the first row ever written
HEAD_ID = 1
FIELDS = ("project_id", "operation", "resource_type", "resource", "username", "op_time")


def stamp(moment: dt.datetime) -> str:
    if moment.tzinfo is None:  # SQLite hands back naive UTC through some paths
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def row_hash(prev_hash: str, row: dict[str, Any]) -> str:
    """The canonical encoding: a compact JSON array of the previous hash and the fields."""
    values = [
        prev_hash,
        row["project_id"],
        row["operation"],
        row["resource_type"],
        row["resource"],
        row["username"],
        stamp(row["op_time"]),
    ]
    encoded = json.dumps(values, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


_HEAD = AuditChainHead.__table__  # Core statements: the ORM's bulk paths cost more than the SQL
_LOGS = AuditLog.__table__


def lock_head(session: Session) -> str:
    """Take the chain's lock (a write to its head row) and return the newest hash, in one
    ``UPDATE … RETURNING``."""
    conn = session.connection()
    last = conn.execute(
        _HEAD.update()
        .where(_HEAD.c.id == HEAD_ID)
        .values(appends=_HEAD.c.appends + 1)
        .returning(_HEAD.c.last_hash)
    ).scalar()
    if last is None:  # a database made without the migration (create_all): start the chain
        conn.execute(_HEAD.insert().values(id=HEAD_ID, last_hash=GENESIS, appends=1))
        return GENESIS
    return str(last)


def add_records(session: Session, rows: Iterable[dict[str, Any]]) -> None:
    """Append rows (dicts of :data:`FIELDS`; ``op_time`` defaults to now) in one insert."""
    prepared = []
    for row in rows:
        prepared.append(
            {
                "project_id": row.get("project_id"),
                "operation": row["operation"],
                "resource_type": row["resource_type"],
                "resource": row["resource"][:1024],
                "username": row["username"],
                "op_time": row.get("op_time") or utcnow(),
            }
        )
    if not prepared:
        return
    prev = lock_head(session)
    for row in prepared:
        row["prev_hash"] = prev
        row["hash"] = prev = row_hash(prev, row)
    conn = session.connection()
    conn.execute(_LOGS.insert(), prepared)
    conn.execute(_HEAD.update().where(_HEAD.c.id == HEAD_ID).values(last_hash=prev))


def add_record(
    session: Session,
    username: str,
    operation: str,
    resource_type: str,
    resource: str,
    project_id: int | None = None,
) -> None:
    """operation: create|update|delete|pull|push|denied|login ...; never pass secrets."""
    add_records(
        session,
        [
            {
                "project_id": project_id,
                "operation": operation,
                "resource_type": resource_type,
                "resource": resource,
                "username": username,
            }
        ],
    )


def purge_records(session: Session, *where: Any) -> int:
    """Delete the rows matching ``where``, leaving a checkpoint for each gap: the hash of
    the last purged row before a kept row (or before the end of the chain)."""
    lock_head(session)  # no append interleaves: the gaps seen here are the gaps left
    doomed = session.execute(
        select(AuditLog.id, AuditLog.hash).where(*where).order_by(AuditLog.id)
    ).all()
    if not doomed:
        return 0
    doomed_ids = {row_id for row_id, _ in doomed}
    rows = session.execute(
        select(AuditLog.id).where(AuditLog.id > doomed[0][0]).order_by(AuditLog.id)
    ).scalars()
    successor: dict[int, int | None] = {}
    previous = doomed[0][0]
    for row_id in rows:  # each purged row's next row in the chain
        successor[previous] = row_id
        previous = row_id
        if row_id > doomed[-1][0] and row_id not in doomed_ids:
            break
    run = 0
    for row_id, row_hash_ in doomed:
        run += 1
        after = successor.get(row_id)
        if after is None or after not in doomed_ids:
            session.add(
                AuditChainCheckpoint(
                    purged_hash=row_hash_ or GENESIS, successor_id=after, purged_rows=run
                )
            )
            run = 0
    removed = session.execute(
        delete(AuditLog)
        .where(*where)  # the same rows: appends wait
        .execution_options(synchronize_session=False)
    ).rowcount
    return removed or 0
