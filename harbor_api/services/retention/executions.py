"""Tag retention executions on the job service: vendor ``RETENTION``, vendor id the policy,
one ``RETENTION`` task per repository the rules' repository selectors match (Harbor's
shape). The rules are copied into the tasks when the execution starts, so an edit of the
policy meanwhile does not change a run. Statuses are the job service's names, as Harbor's
retention API shows them (``Pending``, ``Running``, ``Success``, ``Error``, ``Stopped``).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from harbor_api.db.models import (
    Execution,
    Project,
    Repository,
    RetentionPolicy,
    RetentionTaskResult,
    Task,
)
from harbor_api.errors import BadRequestError, NotFoundError
from harbor_api.jobs import executions as jobs
from harbor_api.jobs import status as st
from harbor_api.jobs.logs import read_log
from harbor_api.services.context import RequestContext
from harbor_api.services.formats import iso
from harbor_api.services.query import page_and_total
from harbor_api.services.retention.policies import RETENTION, authorized_policy
from harbor_api.services.retention.rules import compile_rules

STATUS_NAMES = {
    st.PENDING: "Pending",
    st.RUNNING: "Running",
    st.SUCCESS: "Success",
    st.ERROR: "Error",
    st.STOPPED: "Stopped",
}
# Harbor's job status codes: every final status shares one
STATUS_CODES = {st.PENDING: 0, st.RUNNING: 2, st.SUCCESS: 3, st.ERROR: 3, st.STOPPED: 3}


def plan_tasks(s: Session, policy: RetentionPolicy, dry_run: bool) -> list[dict[str, Any]]:
    """One parameter set per repository of the project that some enabled rule applies to."""
    stored = json.loads(policy.rules or "[]")
    rules = compile_rules(stored)
    project_name = s.scalar(select(Project.name).where(Project.id == policy.project_id))
    prefix = f"{project_name}/"
    tasks = []
    for repo_id, name in s.execute(
        select(Repository.id, Repository.name)
        .where(Repository.project_id == policy.project_id)
        .order_by(Repository.name)
    ):
        inside = name[len(prefix) :] if name.startswith(prefix) else name
        if any(rule.applies_to(inside) for rule in rules):
            tasks.append(
                {
                    "policy_id": policy.id,
                    "project_id": policy.project_id,
                    "repository_id": repo_id,
                    "repository": name,
                    "dry_run": dry_run,
                    "rules": stored,
                }
            )
    return tasks


def start(s: Session, policy: RetentionPolicy, trigger: str, dry_run: bool) -> int:
    """Create the execution and its tasks in the caller's transaction."""
    execution = jobs.create_execution(
        s,
        RETENTION,
        RETENTION,
        vendor_id=policy.id,
        trigger=trigger,
        params=plan_tasks(s, policy, dry_run),
        extra_attrs={"dry_run": dry_run},
    )
    return execution.id


def trigger_execution(ctx: RequestContext, policy_id: int, body: dict[str, Any] | None) -> int:
    dry_run = (body or {}).get("dry_run")
    with ctx.db.transaction() as s:
        policy, _ = authorized_policy(s, ctx.principal, policy_id, "update")
        return start(s, policy, "MANUAL", bool(dry_run))


def render_execution(row: Execution) -> dict[str, Any]:
    """Harbor's ``RetentionExecution``."""
    item: dict[str, Any] = {
        "id": row.id,
        "policy_id": row.vendor_id,
        "start_time": iso(row.start_time),
        "status": STATUS_NAMES[row.status],
        "trigger": row.trigger,
        "dry_run": bool(json.loads(row.extra_attrs or "{}").get("dry_run")),
    }
    if row.end_time:
        item["end_time"] = iso(row.end_time)
    return item


def list_executions(
    ctx: RequestContext, policy_id: int, offset: int, limit: int
) -> tuple[list[dict], int]:
    where = [Execution.vendor_type == RETENTION, Execution.vendor_id == policy_id]
    with ctx.db.read() as s:
        authorized_policy(s, ctx.principal, policy_id, "list")
        rows, total = page_and_total(
            s,
            select(Execution).where(*where).order_by(Execution.id.desc()),
            select(func.count()).select_from(Execution).where(*where),
            offset,
            limit,
        )
        return [render_execution(r) for r in rows], total


def _execution(s: Session, policy_id: int, execution_id: int) -> Execution:
    row = s.get(Execution, execution_id)
    if row is None or row.vendor_type != RETENTION or row.vendor_id != policy_id:
        raise NotFoundError(f"retention execution {execution_id} not found")
    return row


def operate_execution(
    ctx: RequestContext, policy_id: int, execution_id: int, body: dict[str, Any] | None
) -> None:
    action = (body or {}).get("action")
    if action != "stop":
        raise BadRequestError(f"unsupported action {action!r}: only stop")
    with ctx.db.transaction() as s:
        authorized_policy(s, ctx.principal, policy_id, "update")
        _execution(s, policy_id, execution_id)
        jobs.stop_execution(s, execution_id)


def render_task(row: Task, result: RetentionTaskResult | None) -> dict[str, Any]:
    """Harbor's ``RetentionExecutionTask``."""
    params = json.loads(row.params or "{}")
    item: dict[str, Any] = {
        "id": row.id,
        "execution_id": row.execution_id,
        "repository": params.get("repository", ""),
        "job_id": str(row.id),
        "status": STATUS_NAMES[row.status],
        "status_code": STATUS_CODES[row.status],
        "status_revision": int(row.update_time.timestamp()) if row.update_time else 0,
        "total": result.total if result else 0,
        "retained": result.retained if result else 0,
    }
    if row.start_time:
        item["start_time"] = iso(row.start_time)
    if row.end_time:
        item["end_time"] = iso(row.end_time)
    return item


def list_tasks(
    ctx: RequestContext, policy_id: int, execution_id: int, offset: int, limit: int
) -> tuple[list[dict], int]:
    where = [Task.execution_id == execution_id]
    with ctx.db.read() as s:
        authorized_policy(s, ctx.principal, policy_id, "list")
        _execution(s, policy_id, execution_id)
        total = s.scalar(select(func.count()).select_from(Task).where(*where)) or 0
        rows = s.execute(
            select(Task, RetentionTaskResult)
            .outerjoin(RetentionTaskResult, RetentionTaskResult.task_id == Task.id)
            .where(*where)
            .order_by(Task.id)
            .offset(offset)
            .limit(limit)
        )
        return [render_task(task, result) for task, result in rows], total


def task_log(ctx: RequestContext, policy_id: int, execution_id: int, task_id: int) -> str:
    with ctx.db.read() as s:
        authorized_policy(s, ctx.principal, policy_id, "read")
        _execution(s, policy_id, execution_id)
        task = s.get(Task, task_id)
        if task is None or task.execution_id != execution_id:
            raise NotFoundError(f"task {task_id} of retention execution {execution_id} not found")
    return read_log(ctx.app.storage, task_id) or ""
