"""The built-in job types, run through the real queue."""

from __future__ import annotations

import datetime as dt

from harbor_api.db.base import utcnow
from harbor_api.db.models import AuditLog
from harbor_api.jobs import executions, queue
from harbor_api.jobs import status as st
from harbor_api.jobs.logs import read_log
from harbor_api.jobs.runner import LeaseKeeper, execute


def _audit(db, hours_ago, operation):
    with db.transaction() as s:
        s.add(
            AuditLog(
                operation=operation,
                resource_type="artifact",
                resource="p/r:t",
                username="admin",
                op_time=utcnow() - dt.timedelta(hours=hours_ago),
            )
        )


def _run(db, storage, params):
    with db.transaction() as s:
        executions.create_execution(s, "AUDIT_LOGS_GC", "AUDIT_LOGS_GC", params=params)
    claim = queue.claim_next(db, "w", 30, job_types=["AUDIT_LOGS_GC"])
    assert execute(db, storage, LeaseKeeper(db, 30), claim) == st.SUCCESS
    return read_log(storage, claim.task_id)


def test_audit_logs_gc_purges_old_rows_of_the_chosen_operations(db, storage):
    _audit(db, 50, "pull")
    _audit(db, 50, "create")
    _audit(db, 1, "pull")
    log = _run(
        db, storage, {"audit_retention_hour": 24, "include_operations": "pull", "dry_run": True}
    )
    assert "dry run: 1 audit log row(s)" in log
    with db.read() as s:
        assert s.query(AuditLog).count() == 3
    log = _run(db, storage, {"audit_retention_hour": 24, "include_operations": "pull"})
    assert "purged 1 audit log row(s)" in log
    with db.read() as s:
        assert sorted(r.operation for r in s.query(AuditLog)) == ["create", "pull"]
    _run(db, storage, {"audit_retention_hour": 24})
    with db.read() as s:
        assert [r.operation for r in s.query(AuditLog)] == ["pull"]
