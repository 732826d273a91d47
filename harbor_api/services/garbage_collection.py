"""Harbor's garbage collection API (``/system/gc…``) on the job service: a manual run or a
cron schedule starts an execution of ``GARBAGE_COLLECTION`` (vendor ``GARBAGE_COLLECTION``);
history, one run, its log and stop are that vendor's executions (shapes shared with the
audit purge: ``services/job_schedules.py``). System administrators only. What a run does:
``docs/gc.md``.
"""

from __future__ import annotations

from typing import Any

from harbor_api.auth.rbac import require_system
from harbor_api.errors import BadRequestError
from harbor_api.services.context import RequestContext
from harbor_api.services.gc_job import GARBAGE_COLLECTION
from harbor_api.services.job_schedules import SystemJob

VENDOR = "GARBAGE_COLLECTION"
RESOURCE = "garbage-collection"
MAX_WORKERS = 5  # Harbor's range


def parameters(raw: Any) -> dict[str, Any]:
    """Harbor's GC parameters, checked: the job gets only what it understands."""
    raw = raw if isinstance(raw, dict) else {}
    checked: dict[str, Any] = {}
    for flag in ("delete_untagged", "dry_run"):
        value = raw.get(flag, False)
        if not isinstance(value, bool):
            raise BadRequestError(f"{flag} must be true or false")
        checked[flag] = value
    workers = raw.get("workers", 1)
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise BadRequestError(f"workers must be a whole number from 1 to {MAX_WORKERS}")
    checked["workers"] = workers
    return checked


JOB = SystemJob(VENDOR, GARBAGE_COLLECTION, "gc", parameters)


def create(ctx: RequestContext, body: dict[str, Any]) -> int | None:
    """Manual: start a run now and return its id. Otherwise create the schedule (409 if
    one exists: PUT replaces it)."""
    require_system(ctx.principal, RESOURCE, "create")
    return JOB.create(ctx, body)


def update_schedule(ctx: RequestContext, body: dict[str, Any]) -> None:
    require_system(ctx.principal, RESOURCE, "update")
    JOB.update_schedule(ctx, body)


def get_schedule(ctx: RequestContext) -> dict[str, Any]:
    require_system(ctx.principal, RESOURCE, "read")
    return JOB.get_schedule(ctx)


def history(
    ctx: RequestContext, offset: int, limit: int, sort: str | None = None
) -> tuple[list[dict], int]:
    require_system(ctx.principal, RESOURCE, "list")
    key = (sort or "-id").strip()
    if key.lstrip("-") not in ("id", "creation_time"):
        raise BadRequestError("sort takes creation_time or id, optionally with a leading -")
    return JOB.history(ctx, offset, limit, oldest_first=not key.startswith("-"))


def get_job(ctx: RequestContext, gc_id: int) -> dict[str, Any]:
    require_system(ctx.principal, RESOURCE, "read")
    return JOB.get_job(ctx, gc_id)


def job_log(ctx: RequestContext, gc_id: int) -> str:
    require_system(ctx.principal, RESOURCE, "read")
    return JOB.job_log(ctx, gc_id)


def stop(ctx: RequestContext, gc_id: int) -> None:
    require_system(ctx.principal, RESOURCE, "stop")
    JOB.stop(ctx, gc_id)
