"""Replication executions (Harbor's ``/replication/executions``) on the job service.

An execution (vendor type ``REPLICATION``, vendor id the policy) has one task per selected
artifact, so artifacts copy concurrently on the job service's workers. Statuses and
triggers are shown in Harbor's replication words (``InProgress``/``Succeed``/``Failed``/
``Stopped``; ``manual``/``scheduled``/``event_based``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from harbor_api import adapters
from harbor_api.adapters import AdapterError
from harbor_api.auth import rbac
from harbor_api.db.models import Execution, ReplicationPolicy, ReplicationTaskProgress, Task
from harbor_api.errors import BadRequestError, NotFoundError, PreconditionFailedError
from harbor_api.jobs import executions as jobs
from harbor_api.jobs import status as st
from harbor_api.jobs.logs import read_log
from harbor_api.services.context import RequestContext
from harbor_api.services.formats import iso
from harbor_api.services.query import order_by, page_and_total
from harbor_api.services.replication.copy_task import REPLICATION, endpoint_for
from harbor_api.services.replication.filters import glob_match, parse_filters
from harbor_api.services.replication.plan import Item, destination_name, select_items
from harbor_api.services.replication.remote_plan import select_remote_items

TRIGGERS = {"MANUAL": "manual", "SCHEDULE": "scheduled", "EVENT": "event_based"}
_STATUSES = {
    "InProgress": (st.PENDING, st.RUNNING),
    "Succeed": (st.SUCCESS,),
    "Failed": (st.ERROR,),
    "Stopped": (st.STOPPED,),
}
_SORT = {
    "id": Execution.id,
    "start_time": Execution.start_time,
    "end_time": Execution.end_time,
    "status": Execution.status,
}
_TASK_SORT = {
    "id": Task.id,
    "start_time": Task.start_time,
    "end_time": Task.end_time,
    "status": Task.status,
}


@dataclass(frozen=True)
class SourceListing:
    """What a pull-mode policy's source offers (listed before the execution's
    transaction: the remote may be slow), or why it could not be listed."""

    items: list[Item] | None
    error: str = ""


def list_source(db: Any, settings: Any, policy: ReplicationPolicy) -> SourceListing:
    """List the source endpoint of a pull-mode policy through its adapter."""
    filters = parse_filters(json.loads(policy.filters or "[]"))
    try:
        endpoint = endpoint_for(db, settings, policy.src_registry_id)
        with adapters.adapter_for(endpoint) as source:
            return SourceListing(select_remote_items(source, filters))
    except AdapterError as exc:
        return SourceListing(None, f"listing the source registry failed: {exc.message}")
    except (ValueError, KeyError, TypeError) as exc:  # an answer not shaped as documented
        return SourceListing(None, f"the source registry answered a listing badly: {exc!r}")


def plan_tasks(
    s: Session,
    policy: ReplicationPolicy,
    only: tuple[str, str] | None = None,
    listing: SourceListing | None = None,
) -> list[dict[str, Any]]:
    """One parameter set per artifact the policy selects: push mode from this instance
    (``only`` (repository, digest) narrows it to one pushed artifact), pull mode from the
    ``listing`` of the source."""
    filters = parse_filters(json.loads(policy.filters or "[]"))
    resource = next((f.value for f in filters if f.type == "resource"), "image")
    pull = policy.dest_registry_id is None
    if pull:
        items = (listing.items if listing is not None else None) or []
        side = {"src_registry_id": policy.src_registry_id}
    else:
        items = select_items(s, filters, *(only or (None, None)))
        side = {"dest_registry_id": policy.dest_registry_id}
    tasks = []
    for item in items:
        dst = destination_name(
            item.repository, policy.dest_namespace, policy.dest_namespace_replace_count
        )
        shown = f":{','.join(item.tags)}" if item.tags else f"@{item.digest}"
        tasks.append(
            {
                "policy_id": policy.id,
                "operation": "copy",
                "resource_type": resource,
                "repository": item.repository,
                "digest": item.digest,
                "tags": list(item.tags),
                "dst_repository": dst,
                "src_resource": f"{item.repository}{shown}",
                "dst_resource": f"{dst}{shown}",
                **side,
                "override": bool(policy.override),
                "speed": policy.speed,
                "copy_by_chunk": bool(policy.copy_by_chunk),
            }
        )
    return tasks


def plan_deletion(policy: ReplicationPolicy, event: Any) -> dict[str, Any] | None:
    """The deletion task for an artifact or tag deleted here, when the policy selects it."""
    filters = {f.type: f for f in parse_filters(json.loads(policy.filters or "[]"))}
    name, tag = filters.get("name"), filters.get("tag")
    if name and not glob_match(name.value, event.repository):
        return None
    if event.tag and tag and (glob_match(tag.value, event.tag) == (tag.decoration == "excludes")):
        return None
    dst = destination_name(
        event.repository, policy.dest_namespace, policy.dest_namespace_replace_count
    )
    shown = f"@{event.digest}" if event.digest else f":{event.tag}"
    return {
        "policy_id": policy.id,
        "operation": "deletion",
        "resource_type": filters["resource"].value if "resource" in filters else "image",
        "repository": event.repository,
        "digest": event.digest,
        "tag": event.tag,
        "dst_repository": dst,
        "src_resource": f"{event.repository}{shown}",
        "dst_resource": f"{dst}{shown}",
        "dest_registry_id": policy.dest_registry_id,
    }


def start(
    s: Session,
    policy: ReplicationPolicy,
    trigger: str,
    only: tuple[str, str] | None = None,
    listing: SourceListing | None = None,
) -> int:
    """Create the execution and its tasks in the caller's transaction (a pull-mode
    policy's from the ``listing`` of its source; a listing that failed makes an execution
    that failed, saying why, as in Harbor)."""
    if policy.single_active_replication and s.scalar(
        select(Execution.id).where(
            Execution.vendor_type == REPLICATION,
            Execution.vendor_id == policy.id,
            Execution.status.in_((st.PENDING, st.RUNNING)),
        )
    ):
        raise PreconditionFailedError(
            f"policy {policy.name} allows one active execution and one is in progress"
        )
    execution = jobs.create_execution(
        s,
        REPLICATION,
        REPLICATION,
        vendor_id=policy.id,
        trigger=trigger,
        params=plan_tasks(s, policy, only, listing),
    )
    if policy.dest_registry_id is None and (listing is None or listing.items is None):
        execution.status = st.ERROR
        execution.status_message = listing.error if listing else "the source was not listed"
    return execution.id


def start_execution(ctx: RequestContext, body: dict[str, Any]) -> int:
    rbac.require_system(ctx.principal, "replication", "create")
    policy_id = body.get("policy_id")
    if not isinstance(policy_id, int) or isinstance(policy_id, bool) or policy_id < 1:
        raise BadRequestError("policy_id is required")
    listing = None
    with ctx.db.read() as s:
        policy = _enabled_policy(s, policy_id)
        if policy.dest_registry_id is None:
            s.expunge(policy)
        else:
            policy = None
    if policy is not None:  # pull mode: list the source outside any transaction
        listing = list_source(ctx.db, ctx.settings, policy)
    with ctx.db.transaction() as s:
        return start(s, _enabled_policy(s, policy_id), "MANUAL", listing=listing)


def _enabled_policy(s: Session, policy_id: int) -> ReplicationPolicy:
    policy = s.get(ReplicationPolicy, policy_id)
    if policy is None:
        raise NotFoundError(f"replication policy {policy_id} not found")
    if not policy.enabled:
        raise PreconditionFailedError(f"the policy {policy.name} is disabled")
    return policy


def render_execution(s: Session, row: Execution) -> dict[str, Any]:
    counts = jobs.status_counts(s, row.id)
    return {
        "id": row.id,
        "policy_id": row.vendor_id,
        "status": st.harbor_name(row.status),
        "trigger": TRIGGERS.get(row.trigger, row.trigger.lower()),
        "start_time": iso(row.start_time),
        **({"end_time": iso(row.end_time)} if row.end_time else {}),
        "status_text": row.status_message or "",
        "total": sum(counts.values()),
        "failed": counts.get(st.ERROR, 0),
        "succeed": counts.get(st.SUCCESS, 0),
        "in_progress": counts.get(st.PENDING, 0) + counts.get(st.RUNNING, 0),
        "stopped": counts.get(st.STOPPED, 0),
    }


def render_task(row: Task, bytes_copied: int = 0) -> dict[str, Any]:
    p = json.loads(row.params or "{}")
    item = {
        "id": row.id,
        "execution_id": row.execution_id,
        "resource_type": p.get("resource_type", "image"),
        "src_resource": p.get("src_resource", ""),
        "dst_resource": p.get("dst_resource", ""),
        "operation": p.get("operation", "copy"),
        "job_id": str(row.id),
        "status": st.harbor_name(row.status),
        "status_message": row.status_message or "",
        "bytes_copied": bytes_copied,
    }
    if row.start_time:
        item["start_time"] = iso(row.start_time)
    if row.end_time:
        item["end_time"] = iso(row.end_time)
    return item


def _statuses(status: str | None) -> tuple[str, ...] | None:
    if not status:
        return None
    if status not in _STATUSES:
        raise BadRequestError(f"unknown status {status!r}; one of {', '.join(_STATUSES)}")
    return _STATUSES[status]


def list_executions(
    ctx: RequestContext,
    *,
    policy_id: int | None,
    status: str | None,
    trigger: str | None,
    sort: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict], int]:
    rbac.require_system(ctx.principal, "replication", "list")
    where = [Execution.vendor_type == REPLICATION]
    if policy_id is not None:
        where.append(Execution.vendor_id == policy_id)
    statuses = _statuses(status)
    if statuses:
        where.append(Execution.status.in_(statuses))
    if trigger:
        internal = [k for k, v in TRIGGERS.items() if v == trigger]
        if not internal:
            raise BadRequestError(
                f"unknown trigger {trigger!r}; one of {', '.join(TRIGGERS.values())}"
            )
        where.append(Execution.trigger == internal[0])
    order = order_by(sort, _SORT, [Execution.id.desc()])
    with ctx.db.read() as s:
        rows, total = page_and_total(
            s,
            select(Execution).where(*where).order_by(*order),
            select(func.count()).select_from(Execution).where(*where),
            offset,
            limit,
        )
        return [render_execution(s, r) for r in rows], total


def _execution(s: Session, execution_id: int) -> Execution:
    row = s.get(Execution, execution_id)
    if row is None or row.vendor_type != REPLICATION:
        raise NotFoundError(f"replication execution {execution_id} not found")
    return row


def get_execution(ctx: RequestContext, execution_id: int) -> dict[str, Any]:
    rbac.require_system(ctx.principal, "replication", "read")
    with ctx.db.read() as s:
        return render_execution(s, _execution(s, execution_id))


def stop_execution(ctx: RequestContext, execution_id: int) -> None:
    rbac.require_system(ctx.principal, "replication", "update")
    with ctx.db.transaction() as s:
        _execution(s, execution_id)
        jobs.stop_execution(s, execution_id)


def retry_execution(ctx: RequestContext, execution_id: int) -> int:
    """Re-run only the failed tasks (an extension beyond Harbor): how many were queued."""
    rbac.require_system(ctx.principal, "replication", "update")
    with ctx.db.transaction() as s:
        _execution(s, execution_id)
        return jobs.rerun_failed(s, execution_id)


def list_tasks(
    ctx: RequestContext,
    execution_id: int,
    *,
    status: str | None,
    resource_type: str | None,
    sort: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict], int]:
    rbac.require_system(ctx.principal, "replication", "read")
    where = [Task.execution_id == execution_id]
    statuses = _statuses(status)
    if statuses:
        where.append(Task.status.in_(statuses))
    order = order_by(sort, _TASK_SORT, [Task.id.asc()])
    with ctx.db.read() as s:
        _execution(s, execution_id)
        rows = s.execute(
            select(Task, ReplicationTaskProgress.bytes_copied)
            .outerjoin(ReplicationTaskProgress, ReplicationTaskProgress.task_id == Task.id)
            .where(*where)
            .order_by(*order)
        )
        items = [render_task(task, sent or 0) for task, sent in rows]
    if resource_type:
        items = [i for i in items if i["resource_type"] == resource_type]
    return items[offset : offset + limit], len(items)


def task_log(ctx: RequestContext, execution_id: int, task_id: int) -> str:
    rbac.require_system(ctx.principal, "replication", "read")
    with ctx.db.read() as s:
        _execution(s, execution_id)
        task = s.get(Task, task_id)
        if task is None or task.execution_id != execution_id:
            raise NotFoundError(f"task {task_id} of execution {execution_id} not found")
    return read_log(ctx.app.storage, task_id) or ""
