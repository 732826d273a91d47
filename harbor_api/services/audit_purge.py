"""Harbor's audit log purge (``/system/purgeaudit…``) on the job service: a manual run or a
cron schedule starts an execution of ``AUDIT_LOGS_GC`` (vendor ``PURGE_AUDIT_LOG``); history,
one run, its log and stop are that vendor's executions. System administrators only.

Shapes are Harbor's ``Schedule`` (request) and ``ExecHistory`` (answers), shared with
garbage collection (``services/job_schedules.py``).
"""

from __future__ import annotations

from typing import Any

from harbor_api.errors import BadRequestError
from harbor_api.jobs.builtin import AUDIT_LOGS_GC
from harbor_api.services.job_schedules import SystemJob

VENDOR = "PURGE_AUDIT_LOG"
RESOURCE = "purge-audit"
MAX_HOURS = 1_000_000  # about 114 years: more is a typo, and overflows date arithmetic


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


JOB = SystemJob(VENDOR, AUDIT_LOGS_GC, "purge", parameters, RESOURCE)

# The operations (each authorises against RESOURCE first; see SystemJob).
create = JOB.create
update_schedule = JOB.update_schedule
get_schedule = JOB.get_schedule
history = JOB.history
get_job = JOB.get_job
job_log = JOB.job_log
stop = JOB.stop
