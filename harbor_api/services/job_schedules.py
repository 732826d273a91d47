"""Harbor's shapes for a system job run by the job service (audit log purge, garbage
collection): the ``Schedule`` request (Manual, Hourly, Daily, Weekly, Custom, None), and the
``ExecHistory``/``GCHistory`` answers for its schedule, its runs, a run's log, and stop.

A system job is a vendor type (``PURGE_AUDIT_LOG``, ``GARBAGE_COLLECTION``) whose runs are
executions of one job type, and whose schedule is the job service's schedule row of that
vendor (vendor id -1). Each service passes its vendor, job type and checked parameters.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from harbor_api.auth.rbac import require_system
from harbor_api.db.models import Execution, Schedule, Task
from harbor_api.errors import BadRequestError, ConflictError, NotFoundError
from harbor_api.jobs import executions, schedules
from harbor_api.jobs import status as st
from harbor_api.jobs.logs import read_log
from harbor_api.services.context import RequestContext

PRESETS = {"Hourly": "0 0 * * * *", "Daily": "0 0 0 * * *", "Weekly": "0 0 0 * * 0"}


def iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if value else None


def schedule_of(body: dict[str, Any]) -> tuple[str, str]:
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


@dataclass(frozen=True)
class SystemJob:
    """One system job: its vendor, its job type, what its runs are called in errors
    ("purge job", "gc job"), the check of its parameters, and the system resource whose
    permissions its operations require (each public method authorises first)."""

    vendor: str
    job_type: str
    noun: str
    parameters: Callable[[Any], dict[str, Any]]
    resource: str

    def create(self, ctx: RequestContext, body: dict[str, Any]) -> int | None:
        """Manual: start a run now and return its id. Otherwise create the schedule (409 if
        one exists: PUT replaces it)."""
        require_system(ctx.principal, self.resource, "create")
        kind, cron = schedule_of(body)
        params = self.parameters(body.get("parameters"))
        with ctx.db.transaction() as s:
            if kind == "Manual":
                return executions.create_execution(
                    s,
                    self.vendor,
                    self.job_type,
                    params=params,
                    extra_attrs={"schedule_type": "Manual"},
                ).id
            if kind == "None":
                raise BadRequestError("schedule.type None removes a schedule: use PUT")
            if self.schedule_row(s) is not None:
                raise ConflictError(f"the {self.noun} is already scheduled: PUT replaces it")
            schedules.set_schedule(
                s,
                self.vendor,
                self.job_type,
                cron,
                params=params,
                extra_attrs={"schedule_type": kind},
            )
        return None

    def update_schedule(self, ctx: RequestContext, body: dict[str, Any]) -> None:
        require_system(ctx.principal, self.resource, "update")
        kind, cron = schedule_of(body)
        if kind == "Manual":
            raise BadRequestError("schedule.type Manual runs once: use POST")
        params = self.parameters(body.get("parameters"))
        with ctx.db.transaction() as s:
            if kind == "None":
                schedules.delete_schedule(s, self.vendor)
            else:
                schedules.set_schedule(
                    s,
                    self.vendor,
                    self.job_type,
                    cron,
                    params=params,
                    extra_attrs={"schedule_type": kind},
                )

    def schedule_row(self, s) -> Schedule | None:
        return s.scalar(
            select(Schedule).where(Schedule.vendor_type == self.vendor, Schedule.vendor_id == -1)
        )

    def get_schedule(self, ctx: RequestContext) -> dict[str, Any]:
        require_system(ctx.principal, self.resource, "read")
        with ctx.db.read() as s:
            row = self.schedule_row(s)
            if row is None:
                return {}
            kind = json.loads(row.extra_attrs).get("schedule_type", "Custom")
            return {
                "id": row.id,
                "job_name": self.vendor,
                "job_kind": "SCHEDULE",
                "job_parameters": row.params,
                "schedule": {
                    "type": kind,
                    "cron": row.cron,
                    "next_scheduled_time": iso(row.next_fire_at),
                },
                "creation_time": iso(row.creation_time),
                "update_time": iso(row.update_time),
            }

    def render(self, s, execution: Execution) -> dict[str, Any]:
        task = s.scalar(select(Task).where(Task.execution_id == execution.id).order_by(Task.id))
        kind = json.loads(execution.extra_attrs).get("schedule_type", "Manual")
        return {
            "id": execution.id,
            "job_name": self.vendor,
            "job_kind": execution.trigger,
            "job_parameters": task.params if task is not None else "{}",
            "schedule": {"type": kind},
            "job_status": st.harbor_name(execution.status),
            "deleted": False,
            "creation_time": iso(execution.start_time),
            "update_time": iso(execution.update_time),
        }

    def history(
        self, ctx: RequestContext, offset: int, limit: int, sort: str | None = None
    ) -> tuple[list[dict], int]:
        """Runs, newest first unless ``sort`` says ``id``/``creation_time`` (same order)."""
        require_system(ctx.principal, self.resource, "list")
        key = (sort or "-id").strip()
        if key.lstrip("-") not in ("id", "creation_time"):
            raise BadRequestError("sort takes creation_time or id, optionally with a leading -")
        where = (Execution.vendor_type == self.vendor,)
        order = Execution.id.desc() if key.startswith("-") else Execution.id.asc()
        with ctx.db.read() as s:
            total = s.scalar(select(func.count()).select_from(Execution).where(*where)) or 0
            rows = s.scalars(
                select(Execution).where(*where).order_by(order).offset(offset).limit(limit)
            )
            return [self.render(s, e) for e in rows], total

    def execution(self, s, run_id: int) -> Execution:
        if not 0 < run_id < 2**31:  # beyond the id column's range: no such run
            raise NotFoundError(f"{self.noun} job {run_id} not found")
        execution = s.get(Execution, run_id)
        if execution is None or execution.vendor_type != self.vendor:
            raise NotFoundError(f"{self.noun} job {run_id} not found")
        return execution

    def get_job(self, ctx: RequestContext, run_id: int) -> dict[str, Any]:
        require_system(ctx.principal, self.resource, "read")
        with ctx.db.read() as s:
            return self.render(s, self.execution(s, run_id))

    def job_log(self, ctx: RequestContext, run_id: int) -> str:
        require_system(ctx.principal, self.resource, "read")
        with ctx.db.read() as s:
            task_ids = list(
                s.scalars(
                    select(Task.id)
                    .where(Task.execution_id == self.execution(s, run_id).id)
                    .order_by(Task.id)
                )
            )
        storage = ctx.app.storage
        if storage is None:
            raise RuntimeError("the app state has no storage driver")
        return "".join(read_log(storage, task_id) or "" for task_id in task_ids)

    def stop(self, ctx: RequestContext, run_id: int) -> None:
        require_system(ctx.principal, self.resource, "stop")
        with ctx.db.transaction() as s:
            executions.stop_execution(s, self.execution(s, run_id).id)
