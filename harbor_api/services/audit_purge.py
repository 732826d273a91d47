"""Harbor's audit log purge (``/system/purgeaudit…``) on the job service: a manual run or a
cron schedule starts an execution of ``AUDIT_LOGS_GC`` (vendor ``PURGE_AUDIT_LOG``); history,
one run, its log and stop are that vendor's executions. System administrators only.

Shapes are Harbor's ``Schedule`` (request) and ``ExecHistory`` (answers); schedule types
Hourly/Daily/Weekly are Harbor's fixed 6-field crons, Custom takes the caller's cron.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import func, select

from harbor_api.auth.rbac import require_system
from harbor_api.db.models import Execution, Schedule, Task
from harbor_api.errors import BadRequestError, ConflictError, NotFoundError
from harbor_api.jobs import executions, schedules
from harbor_api.jobs import status as st
from harbor_api.jobs.builtin import AUDIT_LOGS_GC
from harbor_api.jobs.logs import read_log
from harbor_api.services.context import RequestContext

VENDOR = "PURGE_AUDIT_LOG"
RESOURCE = "purge-audit"
MAX_HOURS = 1_000_000  # about 114 years: more is a typo, and overflows date arithmetic
PRESETS = {"Hourly": "0 0 * * * *", "Daily": "0 0 0 * * *", "Weekly": "0 0 0 * * 0"}


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if value else None


def parameters(raw: Any) -> dict[str, Any]:
    """Harbor's purge parameters, checked: the job gets only what it understands."""
    raw = raw if isinstance(raw, dict) else {}
    hours = raw.get("audit_retention_hour", 0)
    if isinstance(hours, bool) or not isinstance(hours, int) or not 0 <= hours <= MAX_HOURS:
        raise BadRequestError(
            f"audit_retention_hour must be a whole number of hours, from 0 to {MAX_HOURS}"
        )
    operations = raw.get("include_operations", "")
    if isinstance(operations, list):
        operations = ",".join(str(o) for o in operations)
    if not isinstance(operations, str):
        raise BadRequestError("include_operations must be a comma-separated list of operations")
    dry_run = raw.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise BadRequestError("dry_run must be true or false")
    return {
        "audit_retention_hour": hours,
        "include_operations": operations.strip(),
        "dry_run": dry_run,
    }


def _schedule_of(body: dict[str, Any]) -> tuple[str, str]:
    """(type, cron) from Harbor's ``schedule`` object; cron empty for Manual and None."""
    obj = body.get("schedule") if isinstance(body.get("schedule"), dict) else {}
    kind = obj.get("type") or "None"
    if kind in PRESETS:
        return kind, PRESETS[kind]
    if kind in ("Custom", "Schedule"):
        try:
            return "Custom", schedules.validate_cron(str(obj.get("cron") or ""))
        except schedules.CronError as exc:
            raise BadRequestError(str(exc)) from None
    if kind in ("Manual", "None"):
        return kind, ""
    raise BadRequestError(f"unknown schedule type {kind!r}")


def create(ctx: RequestContext, body: dict[str, Any]) -> int | None:
    """Manual: start a purge now and return its id. Otherwise create the schedule (409 if
    one exists: PUT replaces it)."""
    require_system(ctx.principal, RESOURCE, "create")
    kind, cron = _schedule_of(body)
    params = parameters(body.get("parameters"))
    with ctx.db.transaction() as s:
        if kind == "Manual":
            return executions.create_execution(
                s, VENDOR, AUDIT_LOGS_GC, params=params, extra_attrs={"schedule_type": "Manual"}
            ).id
        if kind == "None":
            raise BadRequestError("schedule.type None removes a schedule: use PUT")
        if _schedule_row(s) is not None:
            raise ConflictError("the audit log purge is already scheduled: PUT replaces it")
        schedules.set_schedule(
            s, VENDOR, AUDIT_LOGS_GC, cron, params=params, extra_attrs={"schedule_type": kind}
        )
    return None


def update_schedule(ctx: RequestContext, body: dict[str, Any]) -> None:
    require_system(ctx.principal, RESOURCE, "update")
    kind, cron = _schedule_of(body)
    if kind == "Manual":
        raise BadRequestError("schedule.type Manual runs once: use POST")
    params = parameters(body.get("parameters"))
    with ctx.db.transaction() as s:
        if kind == "None":
            schedules.delete_schedule(s, VENDOR)
        else:
            schedules.set_schedule(
                s, VENDOR, AUDIT_LOGS_GC, cron, params=params, extra_attrs={"schedule_type": kind}
            )


def _schedule_row(s) -> Schedule | None:
    return s.scalar(
        select(Schedule).where(Schedule.vendor_type == VENDOR, Schedule.vendor_id == -1)
    )


def get_schedule(ctx: RequestContext) -> dict[str, Any]:
    require_system(ctx.principal, RESOURCE, "read")
    with ctx.db.read() as s:
        row = _schedule_row(s)
        if row is None:
            return {}
        kind = json.loads(row.extra_attrs).get("schedule_type", "Custom")
        return {
            "id": row.id,
            "job_name": VENDOR,
            "job_kind": "SCHEDULE",
            "job_parameters": row.params,
            "schedule": {
                "type": kind,
                "cron": row.cron,
                "next_scheduled_time": _iso(row.next_fire_at),
            },
            "creation_time": _iso(row.creation_time),
            "update_time": _iso(row.update_time),
        }


def _render(s, execution: Execution) -> dict[str, Any]:
    task = s.scalar(select(Task).where(Task.execution_id == execution.id).order_by(Task.id))
    kind = json.loads(execution.extra_attrs).get("schedule_type", "Manual")
    return {
        "id": execution.id,
        "job_name": VENDOR,
        "job_kind": execution.trigger,
        "job_parameters": task.params if task is not None else "{}",
        "schedule": {"type": kind},
        "job_status": st.harbor_name(execution.status),
        "deleted": False,
        "creation_time": _iso(execution.start_time),
        "update_time": _iso(execution.update_time),
    }


def history(ctx: RequestContext, offset: int, limit: int) -> tuple[list[dict], int]:
    require_system(ctx.principal, RESOURCE, "list")
    where = (Execution.vendor_type == VENDOR,)
    with ctx.db.read() as s:
        total = s.scalar(select(func.count()).select_from(Execution).where(*where)) or 0
        rows = s.scalars(
            select(Execution)
            .where(*where)
            .order_by(Execution.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return [_render(s, e) for e in rows], total


def _execution(s, purge_id: int) -> Execution:
    if not 0 < purge_id < 2**31:  # beyond the id column's range: no such run
        raise NotFoundError(f"purge job {purge_id} not found")
    execution = s.get(Execution, purge_id)
    if execution is None or execution.vendor_type != VENDOR:
        raise NotFoundError(f"purge job {purge_id} not found")
    return execution


def get_job(ctx: RequestContext, purge_id: int) -> dict[str, Any]:
    require_system(ctx.principal, RESOURCE, "read")
    with ctx.db.read() as s:
        return _render(s, _execution(s, purge_id))


def job_log(ctx: RequestContext, purge_id: int) -> str:
    require_system(ctx.principal, RESOURCE, "read")
    with ctx.db.read() as s:
        task_ids = list(
            s.scalars(
                select(Task.id)
                .where(Task.execution_id == _execution(s, purge_id).id)
                .order_by(Task.id)
            )
        )
    storage = ctx.app.storage
    if storage is None:
        raise RuntimeError("the app state has no storage driver")
    return "".join(read_log(storage, task_id) or "" for task_id in task_ids)


def stop(ctx: RequestContext, purge_id: int) -> None:
    require_system(ctx.principal, RESOURCE, "stop")
    with ctx.db.transaction() as s:
        executions.stop_execution(s, _execution(s, purge_id).id)
