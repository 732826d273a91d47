"""The built-in job types (listed in ``docs/jobs.md``; a unit test keeps it so)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from harbor_api.db.audit_records import purge_records
from harbor_api.db.base import utcnow
from harbor_api.db.models import AuditLog
from harbor_api.jobs.types import JobType, register

AUDIT_LOGS_GC = "AUDIT_LOGS_GC"


def purge_audit_logs(ctx) -> None:
    """Harbor's purge-audit job. Parameters: ``audit_retention_hour`` (rows older than this
    many hours go), ``include_operations`` (comma-separated, e.g. ``create,delete,pull``;
    empty: every operation), ``dry_run`` (count only)."""
    hours = int(ctx.params.get("audit_retention_hour", 0))
    if hours < 0:
        raise ValueError("audit_retention_hour must be 0 or more")
    operations = [
        op.strip() for op in str(ctx.params.get("include_operations", "")).split(",") if op.strip()
    ]
    cutoff = utcnow() - dt.timedelta(hours=hours)
    where = [AuditLog.op_time < cutoff]
    if operations:
        where.append(AuditLog.operation.in_(operations))
    scope = ", ".join(operations) or "every operation"
    if ctx.params.get("dry_run"):
        with ctx.db.read() as s:
            count = s.scalar(select(func.count()).select_from(AuditLog).where(*where))
        ctx.log(
            f"dry run: {count} audit log row(s) older than {hours} hour(s) ({scope}) "
            "would be purged"
        )
        return
    with ctx.db.transaction() as s:  # a checkpoint per gap keeps the chain verifiable
        removed = purge_records(s, *where)
    ctx.log(f"purged {removed} audit log row(s) older than {hours} hour(s) ({scope})")


register(
    JobType(
        AUDIT_LOGS_GC,
        purge_audit_logs,
        "Purge audit log rows older than audit_retention_hour hours (optionally only "
        "include_operations; dry_run counts only).",
        max_retries=3,
        backoff_seconds=10.0,
        max_backoff_seconds=300.0,
    )
)

# Job types whose code lives with the rules they carry out (they register on import).
import harbor_api.services.gc_job  # noqa: E402, F401 - GARBAGE_COLLECTION
import harbor_api.services.replication.copy_task  # noqa: E402, F401 - REPLICATION
import harbor_api.services.replication.triggers  # noqa: E402, F401 - REPLICATION_SCHEDULE
import harbor_api.services.retention.task  # noqa: E402, F401 - RETENTION, RETENTION_SCHEDULE
import harbor_api.services.webhooks.delivery  # noqa: E402, F401 - WEBHOOK, SLACK
