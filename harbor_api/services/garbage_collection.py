"""Harbor's garbage collection API (``/system/gc…``) on the job service: a manual run or a
cron schedule starts an execution of ``GARBAGE_COLLECTION`` (vendor ``GARBAGE_COLLECTION``);
history, one run, its log and stop are that vendor's executions (shapes shared with the
audit purge: ``services/job_schedules.py``). System administrators only. What a run does:
``docs/gc.md``.
"""

from __future__ import annotations

from typing import Any

from harbor_api.errors import BadRequestError
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


JOB = SystemJob(VENDOR, GARBAGE_COLLECTION, "gc", parameters, RESOURCE)

# The operations (each authorises against RESOURCE first; see SystemJob).
create = JOB.create
update_schedule = JOB.update_schedule
get_schedule = JOB.get_schedule
history = JOB.history
get_job = JOB.get_job
job_log = JOB.job_log
stop = JOB.stop
