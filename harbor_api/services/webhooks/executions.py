"""A webhook policy's executions, their tasks and the tasks' logs (Harbor's
``.../webhook/policies/{id}/executions…``), in Harbor's generic ``Execution``/``Task``
shapes with its task-manager statuses (``Pending``, ``Running``, ``Success``, ``Error``,
``Stopped``). Readers need ``notification-policy`` read (project admins, system admins)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from harbor_api.db.models import Execution, Task
from harbor_api.errors import NotFoundError
from harbor_api.jobs import status as st
from harbor_api.jobs.logs import read_log
from harbor_api.services.context import RequestContext
from harbor_api.services.formats import iso
from harbor_api.services.lookup import ProjectNameOrId, authorized_project_ref
from harbor_api.services.query import INT, TEXT, conditions, order_by, page_and_total, parse_q
from harbor_api.services.webhooks import catalog
from harbor_api.services.webhooks.policies import RESOURCE, policy_in_project

STATUS_NAMES = {
    st.PENDING: "Pending",
    st.RUNNING: "Running",
    st.SUCCESS: "Success",
    st.ERROR: "Error",
    st.STOPPED: "Stopped",
}
_BY_NAME = {name: status for status, name in STATUS_NAMES.items()}
EXECUTION_SORT = {
    "id": Execution.id,
    "start_time": Execution.start_time,
    "end_time": Execution.end_time,
    "status": Execution.status,
}
TASK_SORT = {
    "id": Task.id,
    "creation_time": Task.creation_time,
    "start_time": Task.start_time,
    "end_time": Task.end_time,
    "status": Task.status,
}


def _status_terms(q: str | None, allowed: set[str]) -> tuple[dict, str | None]:
    terms = parse_q(q, allowed)
    wanted = terms.pop("status", None)
    return terms, (wanted.value if wanted is not None and isinstance(wanted.value, str) else None)


def _metrics(s, execution_ids: list[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {i: {} for i in execution_ids}
    if execution_ids:
        for execution_id, status, count in s.execute(
            select(Task.execution_id, Task.status, func.count())
            .where(Task.execution_id.in_(execution_ids))
            .group_by(Task.execution_id, Task.status)
        ):
            counts[execution_id][status] = count
    return {
        i: {
            "task_count": sum(c.values()),
            "success_task_count": c.get(st.SUCCESS, 0),
            "error_task_count": c.get(st.ERROR, 0),
            "pending_task_count": c.get(st.PENDING, 0),
            "running_task_count": c.get(st.RUNNING, 0),
            "scheduled_task_count": 0,
            "stopped_task_count": c.get(st.STOPPED, 0),
        }
        for i, c in counts.items()
    }


def _times(item: dict[str, Any], **values: Any) -> dict[str, Any]:
    for key, value in values.items():
        if value is not None:
            item[key] = iso(value)
    return item


def render_execution(row: Execution, metrics: dict[str, int]) -> dict[str, Any]:
    item = {
        "id": row.id,
        "type": row.vendor_type,
        "vendor_type": row.vendor_type,
        "vendor_id": row.vendor_id,
        "status": STATUS_NAMES.get(row.status, row.status),
        "status_message": row.status_message or "",
        "metrics": metrics,
        "trigger": row.trigger,
        "extra_attrs": json.loads(row.extra_attrs or "{}"),
    }
    return _times(item, start_time=row.start_time, end_time=row.end_time)


def render_task(row: Task) -> dict[str, Any]:
    params = json.loads(row.params or "{}")
    item = {
        "id": row.id,
        "execution_id": row.execution_id,
        "status": STATUS_NAMES.get(row.status, row.status),
        "status_message": row.status_message or "",
        "run_count": row.run_count,
        "extra_attrs": {
            "event_type": params.get("event_type", ""),
            "address": params.get("address", ""),
            "payload": params.get("payload"),
        },
    }
    return _times(
        item,
        creation_time=row.creation_time,
        start_time=row.start_time,
        update_time=row.update_time,
        end_time=row.end_time,
    )


def _policy(s, ctx: RequestContext, ref: ProjectNameOrId, policy_id: int):
    project = authorized_project_ref(s, ctx.principal, ref, RESOURCE, "read")
    return policy_in_project(s, project.id, policy_id)


def _execution_of(s, policy_id: int, execution_id: int) -> Execution:
    row = s.get(Execution, execution_id)
    if row is None or row.vendor_id != policy_id or row.vendor_type not in catalog.VENDOR_TYPES:
        raise NotFoundError(f"execution {execution_id} not found in policy {policy_id}")
    return row


def _where_status(column, status_name: str | None) -> list:
    if status_name is None:
        return []
    return [column == _BY_NAME.get(status_name, status_name)]


def list_executions(
    ctx: RequestContext,
    ref: ProjectNameOrId,
    policy_id: int,
    *,
    q: str | None,
    sort: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict], int]:
    fields = {"id": (Execution.id, INT), "trigger": (Execution.trigger, TEXT)}
    terms, status_name = _status_terms(q, {*fields, "status"})
    with ctx.db.read() as s:
        policy = _policy(s, ctx, ref, policy_id)
        where = [
            Execution.vendor_type.in_(catalog.VENDOR_TYPES),
            Execution.vendor_id == policy.id,
            *conditions(terms, fields),
            *_where_status(Execution.status, status_name),
        ]
        rows, total = page_and_total(
            s,
            select(Execution)
            .where(*where)
            .order_by(*order_by(sort, EXECUTION_SORT, [Execution.id.desc()])),
            select(func.count()).select_from(Execution).where(*where),
            offset,
            limit,
        )
        metrics = _metrics(s, [r.id for r in rows])
        return [render_execution(r, metrics[r.id]) for r in rows], total


def list_tasks(
    ctx: RequestContext,
    ref: ProjectNameOrId,
    policy_id: int,
    execution_id: int,
    *,
    q: str | None,
    sort: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict], int]:
    fields = {"id": (Task.id, INT)}
    terms, status_name = _status_terms(q, {*fields, "status"})
    with ctx.db.read() as s:
        policy = _policy(s, ctx, ref, policy_id)
        execution = _execution_of(s, policy.id, execution_id)
        where = [
            Task.execution_id == execution.id,
            *conditions(terms, fields),
            *_where_status(Task.status, status_name),
        ]
        rows, total = page_and_total(
            s,
            select(Task).where(*where).order_by(*order_by(sort, TASK_SORT, [Task.id])),
            select(func.count()).select_from(Task).where(*where),
            offset,
            limit,
        )
        return [render_task(r) for r in rows], total


def task_log(
    ctx: RequestContext, ref: ProjectNameOrId, policy_id: int, execution_id: int, task_id: int
) -> str:
    with ctx.db.read() as s:
        policy = _policy(s, ctx, ref, policy_id)
        execution = _execution_of(s, policy.id, execution_id)
        task = s.get(Task, task_id)
        if task is None or task.execution_id != execution.id:
            raise NotFoundError(f"task {task_id} not found in execution {execution_id}")
    return read_log(ctx.app.storage, task_id) or ""
