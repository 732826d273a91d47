"""Reading the audit log, and its retention.

Retention (configuration key ``audit_log_retention_hours``, 0 = keep forever) is enforced
by an amortised purge: :func:`maybe_purge` runs at most once per
:data:`PURGE_INTERVAL_SECONDS` per process. It is called when the log is read (the audit
log APIs), and :func:`start_retention_job` runs it on a daemon thread every interval so the
log is bounded even if nobody reads it (call it once per process, e.g. from app start-up).
One ``DELETE … WHERE op_time < cutoff`` uses the ``op_time`` index, so a purge costs one
indexed statement, never a scan per request.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from harbor_api.auth import rbac
from harbor_api.db.audit_records import purge_records
from harbor_api.db.models import AuditLog, ConfigEntry
from harbor_api.services.context import RequestContext
from harbor_api.services.formats import iso
from harbor_api.services.lookup import authorized_project
from harbor_api.services.query import TEXT, TIME, conditions, order_by, page_and_total, parse_q

log = logging.getLogger(__name__)

PURGE_INTERVAL_SECONDS = 300.0
RETENTION_KEY = "audit_log_retention_hours"
_TEXT_KEYS = ("operation", "resource", "resource_type", "username")
_SORT = {
    "op_time": AuditLog.op_time,
    "id": AuditLog.id,
    "operation": AuditLog.operation,
    "resource": AuditLog.resource,
    "resource_type": AuditLog.resource_type,
    "username": AuditLog.username,
}
_last_purge = 0.0
_purge_lock = threading.Lock()


def render(entry: AuditLog) -> dict[str, Any]:
    return {
        "id": entry.id,
        "username": entry.username,
        "resource": entry.resource,
        "resource_type": entry.resource_type,
        "operation": entry.operation,
        "op_time": iso(entry.op_time),
    }


def list_logs(
    ctx: RequestContext,
    project_name: str | None,
    *,
    q: str | None,
    sort: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict], int]:
    """The whole log (for system administrators) or one project's log."""
    if project_name is None:
        rbac.require_system(ctx.principal, "audit-log", "list")
    fields = {key: (getattr(AuditLog, key), TEXT) for key in _TEXT_KEYS}
    fields["op_time"] = (AuditLog.op_time, TIME)
    where = conditions(parse_q(q, set(fields)), fields)
    order = order_by(sort, _SORT, [AuditLog.op_time.desc(), AuditLog.id.desc()])
    maybe_purge(ctx.db)
    with ctx.db.read() as s:
        if project_name is not None:
            project = authorized_project(s, ctx.principal, project_name, "log", "list")
            where.append(AuditLog.project_id == project.id)
        rows, total = page_and_total(
            s,
            select(AuditLog).where(*where).order_by(*order),
            select(func.count()).select_from(AuditLog).where(*where),
            offset,
            limit,
        )
        return [render(r) for r in rows], total


def retention_hours(session: Session) -> int:
    row = session.get(ConfigEntry, RETENTION_KEY)
    if row is None:
        return 0
    try:
        return max(0, int(json.loads(row.value)))
    except (TypeError, ValueError):
        return 0


def purge(session: Session, now: dt.datetime | None = None) -> int:
    """Delete entries older than the retention window; returns how many went."""
    hours = retention_hours(session)
    if hours <= 0:
        return 0
    cutoff = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(hours=hours)
    return purge_records(session, AuditLog.op_time < cutoff)


def maybe_purge(db: Any, force: bool = False) -> int:
    """Run :func:`purge` in its own transaction when the interval has passed."""
    global _last_purge
    now = time.monotonic()
    if not force and now - _last_purge < PURGE_INTERVAL_SECONDS:
        return 0
    if not _purge_lock.acquire(blocking=False):
        return 0
    try:
        _last_purge = now
        with db.transaction() as s:
            removed = purge(s)
        if removed:
            log.info("audit log retention purged %d entries", removed)
        return removed
    except Exception as exc:  # retention must never fail the request that triggered it
        log.warning("audit log purge failed: %s", exc)
        return 0
    finally:
        _purge_lock.release()


def start_retention_job(db: Any, interval: float = PURGE_INTERVAL_SECONDS) -> threading.Event:
    """A daemon thread applying the retention every ``interval`` seconds; set the returned
    event to stop it."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            maybe_purge(db, force=True)
            stop.wait(interval)

    threading.Thread(target=loop, name="audit-retention", daemon=True).start()
    return stop
