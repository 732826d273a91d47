"""Cron schedules in Harbor's 6-field form (seconds first), parsed by croniter.

A due schedule fires by a compare-and-set of its ``next_fire_at`` in the same transaction
that creates the execution: when several server processes share the database, each
occurrence fires exactly once (the others' conditional update matches no row). Missed
occurrences (the server was down) fire once, not once per missed tick.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from croniter import croniter
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from harbor_api.db.base import utcnow
from harbor_api.db.models import Execution, JobQueueState, Schedule
from harbor_api.db.session import Database
from harbor_api.jobs import types
from harbor_api.jobs.executions import create_execution


class CronError(ValueError):
    """Not a 6-field cron expression (``second minute hour day month weekday``)."""


def validate_cron(expression: str) -> str:
    fields = expression.split()
    if len(fields) != 6 or not croniter.is_valid(" ".join(fields), second_at_beginning=True):
        raise CronError(
            f"invalid cron expression {expression!r}: six fields expected, "
            "seconds first (e.g. '0 0 * * * *')"
        )
    return " ".join(fields)


def next_after(expression: str, moment: dt.datetime) -> dt.datetime:
    it = croniter(validate_cron(expression), moment.astimezone(dt.UTC), second_at_beginning=True)
    return it.get_next(dt.datetime).astimezone(dt.UTC)


def set_schedule(
    s: Session,
    vendor_type: str,
    job_type: str,
    cron: str,
    *,
    vendor_id: int = -1,
    params: dict[str, Any] | None = None,
    extra_attrs: dict[str, Any] | None = None,
) -> Schedule:
    """Create or replace the schedule of (vendor_type, vendor_id)."""
    types.get(job_type)
    cron = validate_cron(cron)
    now = utcnow()
    row = s.scalar(
        select(Schedule).where(Schedule.vendor_type == vendor_type, Schedule.vendor_id == vendor_id)
    )
    if row is None:
        row = Schedule(vendor_type=vendor_type, vendor_id=vendor_id, creation_time=now)
        s.add(row)
    row.job_type, row.cron, row.update_time = job_type, cron, now
    row.params, row.extra_attrs = json.dumps(params or {}), json.dumps(extra_attrs or {})
    row.next_fire_at = next_after(cron, now)
    s.flush()
    return row


def delete_schedule(s: Session, vendor_type: str, vendor_id: int = -1) -> bool:
    row = s.scalar(
        select(Schedule).where(Schedule.vendor_type == vendor_type, Schedule.vendor_id == vendor_id)
    )
    if row is None:
        return False
    s.delete(row)
    return True


def fire_due(db: Database, now: dt.datetime | None = None) -> list[int]:
    """Fire every due schedule once; returns the executions this process created."""
    now = now or utcnow()
    with db.read() as s:
        due = [
            (r.id, r.next_fire_at)
            for r in s.scalars(select(Schedule).where(Schedule.next_fire_at <= now))
        ]
    fired = []
    for schedule_id, planned in due:
        with db.transaction() as s:
            row = s.get(Schedule, schedule_id)
            if row is None:
                continue
            following = next_after(row.cron, max(now, planned))
            won = (
                s.execute(
                    update(Schedule)
                    .where(Schedule.id == schedule_id, Schedule.next_fire_at == planned)
                    .values(next_fire_at=following)
                ).rowcount
                == 1
            )
            if not won:
                continue  # another process fired this occurrence
            execution = create_execution(
                s,
                row.vendor_type,
                row.job_type,
                vendor_id=row.vendor_id,
                trigger="SCHEDULE",
                params=json.loads(row.params),
                extra_attrs=json.loads(row.extra_attrs),
            )
            fired.append(execution.id)
    return fired


def list_schedules(db: Database, offset: int, limit: int) -> tuple[list[dict], int]:
    """Harbor's ``ScheduleTask`` items."""
    with db.read() as s:
        total = s.scalar(select(func.count()).select_from(Schedule)) or 0
        rows = s.scalars(select(Schedule).order_by(Schedule.id).offset(offset).limit(limit))
        return [
            {
                "id": r.id,
                "vendor_type": r.vendor_type,
                "vendor_id": r.vendor_id,
                "extra_attrs": json.loads(r.extra_attrs),
                "cron": r.cron,
                "update_time": r.update_time.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            }
            for r in rows
        ], total


def executions_of(s: Session, vendor_type: str, vendor_id: int = -1) -> list[Execution]:
    return list(
        s.scalars(
            select(Execution)
            .where(Execution.vendor_type == vendor_type, Execution.vendor_id == vendor_id)
            .order_by(Execution.id)
        )
    )


def paused(db: Database, job_type: str) -> bool:
    """Harbor's ``SchedulerStatus``: are the jobs of this type (``all``: of every type)
    held back? A paused queue's scheduled executions wait until it is resumed."""
    types.load_builtin()
    with db.read() as s:
        paused_types = set(
            s.scalars(select(JobQueueState.job_type).where(JobQueueState.paused.is_(True)))
        )
    if job_type == "all":
        return bool(types.JOB_TYPES) and set(types.JOB_TYPES) <= paused_types
    return job_type in paused_types
