"""Harbor's job service monitor API (``/jobservice/…``, ``/schedules…``): system admins only.

The API's job id is a task id; statuses and shapes are Harbor's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from harbor_api.auth.rbac import require_system
from harbor_api.db.base import utcnow
from harbor_api.db.models import JobQueueState, JobWorker, Task
from harbor_api.errors import BadRequestError, NotFoundError
from harbor_api.jobs import executions, schedules, types
from harbor_api.jobs import status as st
from harbor_api.jobs.logs import read_log
from harbor_api.registry.storage.base import StorageDriver
from harbor_api.services.context import RequestContext


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def list_pools(ctx: RequestContext) -> list[dict[str, Any]]:
    require_system(ctx.principal, "jobservice-monitor", "list")
    pools: dict[str, dict[str, Any]] = {}
    with ctx.db.read() as s:
        for w in s.scalars(select(JobWorker).order_by(JobWorker.pool_id, JobWorker.id)):
            pool = pools.setdefault(
                w.pool_id,
                {
                    "pid": w.pid,
                    "worker_pool_id": w.pool_id,
                    "start_at": _iso(w.start_at),
                    "heartbeat_at": _iso(w.heartbeat_at),
                    "concurrency": w.concurrency,
                    "host": w.host,
                },
            )
            if w.heartbeat_at and _iso(w.heartbeat_at) > (pool["heartbeat_at"] or ""):
                pool["heartbeat_at"] = _iso(w.heartbeat_at)
    return list(pools.values())


def list_workers(ctx: RequestContext, pool_id: str) -> list[dict[str, Any]]:
    require_system(ctx.principal, "jobservice-monitor", "list")
    with ctx.db.read() as s:
        query = select(JobWorker).order_by(JobWorker.pool_id, JobWorker.id)
        if pool_id != "all":
            query = query.where(JobWorker.pool_id == pool_id)
        rows = [
            {
                "id": w.id,
                "pool_id": w.pool_id,
                "job_name": w.job_name,
                "job_id": w.job_id,
                "start_at": _iso(w.start_at),
                "check_in": "",
                "checkin_at": _iso(w.checkin_at),
            }
            for w in s.scalars(query)
        ]
    if not rows and pool_id != "all":
        raise NotFoundError(f"worker pool {pool_id} not found")
    return rows


def _task_id(job_id: str) -> int:
    if not job_id.isdigit() or len(job_id) > 18:
        raise NotFoundError(f"job {job_id} not found")
    return int(job_id)


def stop_job(ctx: RequestContext, job_id: str, action: str | None) -> None:
    require_system(ctx.principal, "jobservice-monitor", "stop")
    if action not in (None, "stop"):
        raise BadRequestError(f"action {action!r} does not apply to a job: only stop does")
    with ctx.db.transaction() as s:
        if not executions.stop_task(s, _task_id(job_id)):
            raise NotFoundError(f"job {job_id} not found")


def job_log(ctx: RequestContext, job_id: str) -> str:
    require_system(ctx.principal, "jobservice-monitor", "list")
    task_id = _task_id(job_id)
    with ctx.db.read() as s:
        if s.get(Task, task_id) is None:
            raise NotFoundError(f"job {job_id} not found")
    return read_log(_storage(ctx), task_id) or ""


def _job_types(job_type: str) -> list[str]:
    types.load_builtin()
    if job_type == "all":
        return sorted(types.JOB_TYPES)
    if job_type not in types.JOB_TYPES:
        raise NotFoundError(f"job type {job_type} not found")
    return [job_type]


def list_queues(ctx: RequestContext) -> list[dict[str, Any]]:
    require_system(ctx.principal, "jobservice-monitor", "list")
    names = _job_types("all")
    now = utcnow()
    with ctx.db.read() as s:
        paused = set(
            s.scalars(select(JobQueueState.job_type).where(JobQueueState.paused.is_(True)))
        )
        waiting = {
            job_type: (count, oldest)
            for job_type, count, oldest in s.execute(
                select(Task.job_type, func.count(), func.min(Task.next_attempt_at))
                .where(Task.status == st.PENDING)
                .group_by(Task.job_type)
            )
        }
    queues = []
    for name in names:
        count, oldest = waiting.get(name, (0, None))
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=dt.UTC)
        latency = max(0, int((now - oldest).total_seconds())) if oldest else 0
        queues.append(
            {"job_type": name, "count": count, "latency": latency, "paused": name in paused}
        )
    return queues


def act_on_queue(ctx: RequestContext, job_type: str, action: str) -> None:
    """``pause``/``resume`` a queue (shared by every process), or ``stop``: stop and clean
    its pending jobs."""
    require_system(ctx.principal, "jobservice-monitor", "stop")
    if action not in ("stop", "pause", "resume"):
        raise BadRequestError("action must be stop, pause or resume")
    names = _job_types(job_type)
    with ctx.db.transaction() as s:
        if action == "stop":
            executions.stop_pending(s, names)
            return
        for name in names:
            row = s.get(JobQueueState, name)
            if row is None:
                s.add(JobQueueState(job_type=name, paused=action == "pause"))
            else:
                row.paused = action == "pause"


def list_schedules(ctx: RequestContext, offset: int, limit: int) -> tuple[list[dict], int]:
    require_system(ctx.principal, "scheduler", "read")
    return schedules.list_schedules(ctx.db, offset, limit)


def schedule_paused(ctx: RequestContext, job_type: str) -> dict[str, bool]:
    require_system(ctx.principal, "scheduler", "read")
    _job_types(job_type)
    return {"paused": schedules.paused(ctx.db, job_type)}


def _storage(ctx: RequestContext) -> StorageDriver:
    if ctx.app.storage is None:
        raise RuntimeError("the app state has no storage driver")
    return ctx.app.storage
