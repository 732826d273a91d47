"""The database queue: claiming a task under a lease, renewing it, finishing, re-queueing.

A claim is a compare-and-set of ``status='pending'`` → ``running`` (PostgreSQL first picks
the row with ``FOR UPDATE SKIP LOCKED``, so concurrent claimers never wait on each other;
SQLite serialises writers, and the ``WHERE status='pending'`` makes the loser's update
match nothing). Every later write is conditional on the lease owner, so a worker whose
lease expired (and whose task was re-queued and claimed elsewhere) changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from harbor_api.db.base import utcnow
from harbor_api.db.models import JobQueueState, Task
from harbor_api.db.session import Database
from harbor_api.jobs import status as st
from harbor_api.jobs import types
from harbor_api.jobs.executions import lock_execution, refresh_execution


@dataclass(frozen=True)
class Claim:
    """A task this worker holds the lease of."""

    task_id: int
    execution_id: int
    job_type: str
    params: str
    run_count: int
    owner: str


def paused_types(s: Session) -> list[str]:
    return list(s.scalars(select(JobQueueState.job_type).where(JobQueueState.paused.is_(True))))


def claim_next(
    db: Database, owner: str, lease_seconds: float, job_types: list[str] | None = None
) -> Claim | None:
    """The oldest due pending task of an unpaused queue, now running under ``owner``'s lease."""
    for _ in range(5):  # a lost race (another claimer won the row) tries the next row
        with db.transaction() as s:
            now = utcnow()
            query = select(Task.id).where(Task.status == st.PENDING, Task.next_attempt_at <= now)
            paused = paused_types(s)
            if paused:
                query = query.where(Task.job_type.not_in(paused))
            if job_types is not None:
                query = query.where(Task.job_type.in_(job_types))
            query = query.order_by(Task.next_attempt_at, Task.id).limit(1)
            if db.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            task_id = s.scalar(query)
            if task_id is None:
                return None
            claim = _take(s, task_id, owner, lease_seconds, now)
            if claim is not None:
                return claim
    return None


def claim_task(db: Database, task_id: int, owner: str, lease_seconds: float) -> Claim | None:
    """Claim one given task (the Redis queue hands out task ids); None if not claimable now:
    already running elsewhere, finished, stopped, paused, or not yet due."""
    with db.transaction() as s:
        now = utcnow()
        task = s.get(Task, task_id)
        if task is None or task.job_type in paused_types(s) or task.next_attempt_at > now:
            return None
        return _take(s, task_id, owner, lease_seconds, now)


def _take(
    s: Session, task_id: int, owner: str, lease_seconds: float, now: dt.datetime
) -> Claim | None:
    result = s.execute(
        update(Task)
        .where(Task.id == task_id, Task.status == st.PENDING)
        .values(
            status=st.RUNNING,
            lease_owner=owner,
            lease_expires_at=now + dt.timedelta(seconds=lease_seconds),
            run_count=Task.run_count + 1,
            start_time=now,
            end_time=None,
            update_time=now,
        )
    )
    if result.rowcount != 1:
        return None
    task = s.get(Task, task_id, populate_existing=True)
    return Claim(task.id, task.execution_id, task.job_type, task.params, task.run_count, owner)


def renew(db: Database, owner: str, task_ids: list[int], lease_seconds: float) -> set[int]:
    """Heartbeat: extend the leases ``owner`` still holds. Returns the ids whose job must
    stop: asked to through the API, or no longer leased by ``owner`` (the lease expired and
    the task was re-queued: it must not go on running beside its next run)."""
    if not task_ids:
        return set()
    with db.transaction() as s:
        now = utcnow()
        s.execute(
            update(Task)
            .where(Task.id.in_(task_ids), Task.lease_owner == owner, Task.status == st.RUNNING)
            .values(lease_expires_at=now + dt.timedelta(seconds=lease_seconds))
        )
        held = dict(
            s.execute(
                select(Task.id, Task.stop_requested).where(
                    Task.id.in_(task_ids), Task.lease_owner == owner, Task.status == st.RUNNING
                )
            ).all()
        )
        return {task_id for task_id in task_ids if task_id not in held or held[task_id]}


def finish(db: Database, claim: Claim, error: str | None, stopped: bool = False) -> str | None:
    """Record a run's outcome; a failure with retries left is re-queued after its backoff.
    Returns the task's new status, or None when the lease was lost meanwhile."""
    job_type = types.get(claim.job_type)
    with db.transaction() as s:
        lock_execution(s, claim.execution_id)
        now = utcnow()
        values: dict = {
            "update_time": now,
            "lease_owner": None,
            "lease_expires_at": None,
            "dispatched_at": None,
        }
        stop_asked = s.scalar(select(Task.stop_requested).where(Task.id == claim.task_id))
        if stopped or stop_asked:
            values.update(status=st.STOPPED, status_message="stopped", end_time=now)
        elif error is None:
            values.update(status=st.SUCCESS, status_message="", end_time=now)
        elif claim.run_count <= job_type.max_retries:
            delay = job_type.backoff(claim.run_count)
            values.update(
                status=st.PENDING,
                next_attempt_at=now + dt.timedelta(seconds=delay),
                status_message=f"{error} (run {claim.run_count} failed; retry in {delay:g}s)",
            )
        else:
            values.update(status=st.ERROR, status_message=error, end_time=now)
        result = s.execute(
            update(Task)
            .where(
                Task.id == claim.task_id, Task.lease_owner == claim.owner, Task.status == st.RUNNING
            )
            .values(**values)
        )
        if result.rowcount != 1:
            return None
        refresh_execution(s, claim.execution_id)
        return values["status"]


def requeue_expired(db: Database) -> int:
    """Tasks whose lease expired (their worker died or hung) go back to the queue, or fail
    when the lost run was their last allowed one, or stop when a stop was asked."""
    with db.transaction() as s:
        now = utcnow()
        expired = list(
            s.scalars(
                select(Task)
                .where(Task.status == st.RUNNING, Task.lease_expires_at < now)
                .order_by(Task.execution_id, Task.id)
            )
        )
        for task in expired:
            lock_execution(s, task.execution_id)
            try:
                max_retries = types.get(task.job_type).max_retries
            except types.UnknownJobTypeError:
                max_retries = 0
            if task.stop_requested:
                values = {"status": st.STOPPED, "status_message": "stopped", "end_time": now}
            elif task.run_count > max_retries:
                values = {
                    "status": st.ERROR,
                    "end_time": now,
                    "status_message": "the worker running it was lost; no retries left",
                }
            else:
                values = {
                    "status": st.PENDING,
                    "next_attempt_at": now,
                    "status_message": "re-queued: the worker running it was lost",
                }
            s.execute(
                update(Task)
                .where(
                    Task.id == task.id,
                    Task.status == st.RUNNING,
                    Task.lease_owner == task.lease_owner,
                )
                .values(
                    lease_owner=None,
                    lease_expires_at=None,
                    dispatched_at=None,
                    update_time=now,
                    **values,
                )
            )
            refresh_execution(s, task.execution_id)
        return len(expired)


def due_undispatched(db: Database, redispatch_after: float, limit: int = 100) -> list[int]:
    """Pending, due tasks not handed to the Redis queue lately; marks them handed."""
    with db.transaction() as s:
        now = utcnow()
        stale = now - dt.timedelta(seconds=redispatch_after)
        paused = paused_types(s)
        query = select(Task.id).where(
            Task.status == st.PENDING,
            Task.next_attempt_at <= now,
            (Task.dispatched_at.is_(None)) | (Task.dispatched_at < stale),
        )
        if paused:
            query = query.where(Task.job_type.not_in(paused))
        ids = list(s.scalars(query.order_by(Task.id).limit(limit)))
        taken = []
        for task_id in ids:  # compare-and-set, so two dispatchers never both send one task
            result = s.execute(
                update(Task)
                .where(
                    Task.id == task_id,
                    Task.status == st.PENDING,
                    (Task.dispatched_at.is_(None)) | (Task.dispatched_at < stale),
                )
                .values(dispatched_at=now)
            )
            if result.rowcount == 1:
                taken.append(task_id)
        return taken
