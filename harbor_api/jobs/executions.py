"""Executions and their tasks: creating them, stopping them, deriving an execution's status.

Every function takes a session and runs inside the caller's transaction, so a schedule can
fire and enqueue in one transaction, and an execution is never seen without its tasks.

Whoever reacts to an execution reaching its final status (webhooks' ``REPLICATION`` and
``TAG_RETENTION`` events) registers with :func:`on_finished` for a vendor type: the hook
runs once the transaction that decided the final status committed, in that thread, with the
database and a :class:`FinishedExecution`; its failure is logged, never raised.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from harbor_api.db.base import utcnow
from harbor_api.db.models import Execution, Task
from harbor_api.jobs import status as st
from harbor_api.jobs import types

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FinishedExecution:
    id: int
    vendor_type: str
    vendor_id: int
    status: str  # a final internal status (harbor_api.jobs.status.FINAL)


FinishedHook = Callable[[Any, FinishedExecution], None]  # (Database, the execution)
FINISHED_HOOKS: dict[str, list[FinishedHook]] = {}
_PENDING = "jobs.finished_executions"  # Session.info key: finished, hooks not yet run


def on_finished(vendor_type: str) -> Callable[[FinishedHook], FinishedHook]:
    """Register a hook run after an execution of ``vendor_type`` reached a final status."""

    def register(hook: FinishedHook) -> FinishedHook:
        FINISHED_HOOKS.setdefault(vendor_type, []).append(hook)
        return hook

    return register


def _finished_after_commit(s: Session, finished: FinishedExecution) -> None:
    pending = s.info.get(_PENDING)
    if pending is None:
        pending = s.info[_PENDING] = []
        event.listen(s, "after_commit", _run_finished_hooks)
        event.listen(s, "after_rollback", lambda session: session.info.pop(_PENDING, None))
    pending.append(finished)


def _run_finished_hooks(s: Session) -> None:
    db = s.info.get("database")
    for finished in s.info.pop(_PENDING, None) or []:
        for hook in FINISHED_HOOKS.get(finished.vendor_type, []):
            try:
                hook(db, finished)
            except Exception:  # a reaction to an execution never fails the job service
                log.exception("jobs: finished hook %s failed on %s", hook.__name__, finished)


def create_execution(
    s: Session,
    vendor_type: str,
    job_type: str,
    *,
    vendor_id: int = -1,
    trigger: str = "MANUAL",
    params: list[dict[str, Any]] | dict[str, Any] | None = None,
    extra_attrs: dict[str, Any] | None = None,
) -> Execution:
    """An execution with one task per parameter set (``params`` a dict: one task)."""
    types.get(job_type)  # refuse an unknown job type before anything is stored
    sets = [params or {}] if not isinstance(params, list) else params
    execution = Execution(
        vendor_type=vendor_type,
        vendor_id=vendor_id,
        trigger=trigger,
        status=st.RUNNING if sets else st.SUCCESS,
        extra_attrs=json.dumps(extra_attrs or {}),
        start_time=utcnow(),
        update_time=utcnow(),
        end_time=None if sets else utcnow(),
    )
    s.add(execution)
    s.flush()
    for one in sets:
        s.add(
            Task(
                execution_id=execution.id,
                job_type=job_type,
                params=json.dumps(one),
                status=st.PENDING,
                next_attempt_at=utcnow(),
            )
        )
    s.flush()
    return execution


def status_counts(s: Session, execution_id: int) -> dict[str, int]:
    rows = s.execute(
        select(Task.status, func.count())
        .where(Task.execution_id == execution_id)
        .group_by(Task.status)
    )
    return {status: count for status, count in rows}


def lock_execution(s: Session, execution_id: int) -> None:
    """Take the execution's row lock before changing any of its tasks (PostgreSQL; SQLite
    serialises writers anyway). Every writer of an execution's tasks takes it first, so
    two tasks finishing at once derive the status one after the other, the second seeing
    the first's outcome, and a stop never deadlocks with a finishing task."""
    s.execute(select(Execution.id).where(Execution.id == execution_id).with_for_update())


def refresh_execution(s: Session, execution_id: int) -> str:
    """Re-derive the execution's status from its tasks; sets the end time when final."""
    derived = st.derive(status_counts(s, execution_id))
    now = utcnow()
    before = None
    if derived in st.FINAL:  # did it just finish? (then its hooks run after the commit)
        before = s.execute(
            select(Execution.status, Execution.vendor_type, Execution.vendor_id).where(
                Execution.id == execution_id
            )
        ).one_or_none()
    s.execute(
        update(Execution)
        .where(Execution.id == execution_id)
        .values(status=derived, update_time=now, end_time=now if derived in st.FINAL else None)
    )
    if (
        before is not None
        and before.status not in st.FINAL
        and before.vendor_type in FINISHED_HOOKS
    ):
        _finished_after_commit(
            s, FinishedExecution(execution_id, before.vendor_type, before.vendor_id, derived)
        )
    return derived


def stop_task(s: Session, task_id: int) -> bool:
    """Stop one task: a pending one at once, a running one when its worker next checks
    (it is asked through ``stop_requested``). False when there is no such task."""
    task = s.get(Task, task_id)
    if task is None:
        return False
    lock_execution(s, task.execution_id)
    s.refresh(task)
    if task.status == st.PENDING:
        _mark_stopped(s, Task.id == task_id, Task.status == st.PENDING)
    elif task.status == st.RUNNING:
        s.execute(
            update(Task)
            .where(Task.id == task_id, Task.status == st.RUNNING)
            .values(stop_requested=True, update_time=utcnow())
        )
    refresh_execution(s, task.execution_id)
    return True


def stop_execution(s: Session, execution_id: int) -> bool:
    if s.get(Execution, execution_id) is None:
        return False
    lock_execution(s, execution_id)
    for task_id in s.scalars(
        select(Task.id).where(
            Task.execution_id == execution_id, Task.status.in_((st.PENDING, st.RUNNING))
        )
    ):
        stop_task(s, task_id)
    refresh_execution(s, execution_id)
    return True


def rerun_failed(s: Session, execution_id: int) -> int:
    """Queue the execution's failed tasks again (same parameters, a fresh series of
    retries); the others are left alone. Returns how many were queued."""
    lock_execution(s, execution_id)
    now = utcnow()
    result = s.execute(
        update(Task)
        .where(Task.execution_id == execution_id, Task.status == st.ERROR)
        .values(
            status=st.PENDING,
            status_message="",
            run_count=0,
            stop_requested=False,
            next_attempt_at=now,
            lease_owner=None,
            lease_expires_at=None,
            dispatched_at=None,
            end_time=None,
            update_time=now,
        )
    )
    count = result.rowcount or 0
    if count:
        refresh_execution(s, execution_id)
    return count


def stop_pending(s: Session, job_types: list[str]) -> int:
    """Harbor's "stop and clean" of a queue: every pending task of these types is stopped."""
    executions = sorted(
        set(
            s.scalars(
                select(Task.execution_id).where(
                    Task.status == st.PENDING, Task.job_type.in_(job_types)
                )
            )
        )
    )
    for execution_id in executions:
        lock_execution(s, execution_id)
    count = _mark_stopped(s, Task.status == st.PENDING, Task.job_type.in_(job_types))
    for execution_id in executions:
        refresh_execution(s, execution_id)
    return count


def _mark_stopped(s: Session, *where) -> int:
    now = utcnow()
    result = s.execute(
        update(Task)
        .where(*where)
        .values(
            status=st.STOPPED,
            status_message="stopped",
            end_time=now,
            update_time=now,
            lease_owner=None,
            lease_expires_at=None,
        )
    )
    return result.rowcount or 0


def render_execution(s: Session, execution: Execution) -> dict[str, Any]:
    """Harbor's ``Execution`` shape (statuses in Harbor's names, task counts as metrics)."""
    counts = status_counts(s, execution.id)
    metrics = {
        "task_count": sum(counts.values()),
        "success_task_count": counts.get(st.SUCCESS, 0),
        "error_task_count": counts.get(st.ERROR, 0),
        "pending_task_count": counts.get(st.PENDING, 0),
        "running_task_count": counts.get(st.RUNNING, 0),
        "scheduled_task_count": 0,
        "stopped_task_count": counts.get(st.STOPPED, 0),
    }
    return {
        "id": execution.id,
        "vendor_type": execution.vendor_type,
        "vendor_id": execution.vendor_id,
        "status": st.harbor_name(execution.status),
        "status_message": execution.status_message,
        "metrics": metrics,
        "trigger": execution.trigger,
        "extra_attrs": json.loads(execution.extra_attrs),
        "start_time": _iso(execution.start_time),
        "end_time": _iso(execution.end_time),
    }


def render_task(task: Task) -> dict[str, Any]:
    """Harbor's ``Task`` shape."""
    return {
        "id": task.id,
        "execution_id": task.execution_id,
        "status": st.harbor_name(task.status),
        "status_message": task.status_message,
        "run_count": task.run_count,
        "extra_attrs": json.loads(task.params),
        "creation_time": _iso(task.creation_time),
        "update_time": _iso(task.update_time),
        "start_time": _iso(task.start_time),
        "end_time": _iso(task.end_time),
    }


def _iso(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if value else ""
