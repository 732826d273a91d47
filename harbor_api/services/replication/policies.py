"""Replication policies (Harbor's ``/replication/policies``): system administrators only.

One side of a policy is a registry endpoint, the other this instance (a null or absent
registry, id 0 in Harbor's answers): ``src_registry`` set is pull mode, ``dest_registry``
set push mode. A PUT replaces the whole policy, as in Harbor. Endpoints a policy uses
cannot be deleted (the usage check registered with :mod:`harbor_api.services.registries`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from harbor_api.auth import rbac
from harbor_api.db.models import Execution, RegistryEndpoint, ReplicationPolicy
from harbor_api.errors import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    PreconditionFailedError,
)
from harbor_api.jobs.schedules import CronError, delete_schedule, set_schedule, validate_cron
from harbor_api.services import audit, registries
from harbor_api.services.context import RequestContext
from harbor_api.services.formats import iso
from harbor_api.services.query import (
    INT,
    TEXT,
    conditions,
    contains,
    order_by,
    page_and_total,
    parse_q,
)
from harbor_api.services.replication.filters import parse_filters

TRIGGERS = ("manual", "scheduled", "event_based")
SCHEDULE = "REPLICATION_SCHEDULE"  # the schedules' vendor and job type (see triggers.py)
_NAMESPACE = re.compile(
    r"^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$"
)
_SORT = {
    "id": ReplicationPolicy.id,
    "name": ReplicationPolicy.name,
    "creation_time": ReplicationPolicy.creation_time,
    "update_time": ReplicationPolicy.update_time,
}
_Q_FIELDS = {
    "name": (ReplicationPolicy.name, TEXT),
    "description": (ReplicationPolicy.description, TEXT),
    "id": (ReplicationPolicy.id, INT),
    "src_registry_id": (ReplicationPolicy.src_registry_id, INT),
    "dest_registry_id": (ReplicationPolicy.dest_registry_id, INT),
}


@registries.register_usage_check
def _policies_using(session: Session, registry_id: int) -> list[str]:
    names = session.scalars(
        select(ReplicationPolicy.name).where(
            or_(
                ReplicationPolicy.src_registry_id == registry_id,
                ReplicationPolicy.dest_registry_id == registry_id,
            )
        )
    )
    return [f"replication policy {name}" for name in names]


def local_registry(ctx: RequestContext) -> dict[str, Any]:
    """This instance as Harbor shows it in a policy: registry id 0, named Local."""
    return {
        "id": 0,
        "name": "Local",
        "url": ctx.settings.resolved_external_url,
        "type": "harbor",
        "insecure": False,
        "description": "",
        "status": "healthy",
    }


def render(ctx: RequestContext, s: Session, row: ReplicationPolicy) -> dict[str, Any]:
    def side(registry_id: int | None) -> dict[str, Any]:
        if registry_id is None:
            return local_registry(ctx)
        endpoint = s.get(RegistryEndpoint, registry_id)
        return registries.render(endpoint) if endpoint else {"id": registry_id}

    trigger: dict[str, Any] = {
        "type": row.trigger_type,
        "trigger_settings": {"cron": row.trigger_cron},
    }
    return {
        "id": row.id,
        "name": row.name,
        "description": row.description or "",
        "src_registry": side(row.src_registry_id),
        "dest_registry": side(row.dest_registry_id),
        "dest_namespace": row.dest_namespace or "",
        "dest_namespace_replace_count": row.dest_namespace_replace_count,
        "trigger": trigger,
        "filters": json.loads(row.filters or "[]"),
        "replicate_deletion": bool(row.replicate_deletion),
        "deletion": bool(row.replicate_deletion),
        "override": bool(row.override),
        "enabled": bool(row.enabled),
        "speed": row.speed,
        "copy_by_chunk": bool(row.copy_by_chunk),
        "single_active_replication": bool(row.single_active_replication),
        "creation_time": iso(row.creation_time),
        "update_time": iso(row.update_time),
    }


def _registry_id(s: Session, raw: Any, field: str) -> int | None:
    if raw is None:
        return None
    registry_id = raw.get("id") if isinstance(raw, dict) else None
    if registry_id in (None, 0):
        return None
    if not isinstance(registry_id, int) or isinstance(registry_id, bool):
        raise BadRequestError(f"{field}.id must be an integer")
    if s.get(RegistryEndpoint, registry_id) is None:
        raise BadRequestError(f"{field}: registry {registry_id} not found")
    return registry_id


def _int(body: dict[str, Any], field: str, default: int, minimum: int) -> int:
    value = body.get(field)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise BadRequestError(f"{field} must be an integer of at least {minimum}")
    return value


def _trigger(body: dict[str, Any]) -> tuple[str, str]:
    trigger = body.get("trigger") or {}
    kind = trigger.get("type") or "manual"
    if kind not in TRIGGERS:
        raise BadRequestError(
            f"unsupported trigger type {kind!r}; supported: {', '.join(TRIGGERS)}"
        )
    if kind != "scheduled":
        return kind, ""
    cron = ((trigger.get("trigger_settings") or {}).get("cron") or "").strip()
    try:
        return kind, validate_cron(cron)
    except CronError as exc:
        raise BadRequestError(f"the scheduled trigger needs a valid cron: {exc}") from None


def _apply(s: Session, row: ReplicationPolicy, body: dict[str, Any]) -> None:
    """Check the whole body and write it into ``row`` (create and replace alike)."""
    name = (body.get("name") or "").strip()
    if not name or len(name) > 256:
        raise BadRequestError("policy name is required (at most 256 characters)")
    src = _registry_id(s, body.get("src_registry"), "src_registry")
    dest = _registry_id(s, body.get("dest_registry"), "dest_registry")
    if (src is None) == (dest is None):
        raise BadRequestError(
            "exactly one of src_registry (pull mode) and dest_registry "
            "(push mode) must be a registry endpoint; the other side is "
            "this instance"
        )
    namespace = (body.get("dest_namespace") or "").strip()
    if namespace and (len(namespace) > 255 or not _NAMESPACE.match(namespace)):
        raise BadRequestError(
            f"invalid dest_namespace {namespace!r}: lower-case path "
            "components of letters, digits and separators"
        )
    trigger_type, cron = _trigger(body)
    if trigger_type == "event_based" and src is not None:
        raise BadRequestError(
            "the event_based trigger is for push mode only (events happen on this instance)"
        )
    filters = parse_filters(body.get("filters"))
    deletion = body.get("replicate_deletion")
    if deletion is None:
        deletion = body.get("deletion")  # Harbor's deprecated spelling
    if s.scalar(
        select(ReplicationPolicy.id).where(
            ReplicationPolicy.name == name, ReplicationPolicy.id != (row.id or 0)
        )
    ):
        raise ConflictError(f"policy {name} already exists")
    row.name, row.description = name, body.get("description") or ""
    row.src_registry_id, row.dest_registry_id = src, dest
    row.dest_namespace = namespace
    row.dest_namespace_replace_count = _int(body, "dest_namespace_replace_count", -1, -1)
    row.trigger_type, row.trigger_cron = trigger_type, cron
    row.filters = json.dumps([f.render() for f in filters])
    row.replicate_deletion = bool(deletion)
    row.override = bool(body.get("override"))
    row.enabled = bool(body.get("enabled", True))
    row.speed = _int(body, "speed", -1, -1)
    row.copy_by_chunk = bool(body.get("copy_by_chunk"))
    row.single_active_replication = bool(body.get("single_active_replication"))


def _sync_schedule(s: Session, row: ReplicationPolicy) -> None:
    """An enabled scheduled policy has a job-service schedule; any other has none."""
    if row.trigger_type == "scheduled" and row.enabled:
        set_schedule(
            s,
            SCHEDULE,
            SCHEDULE,
            row.trigger_cron,
            vendor_id=row.id,
            params={"policy_id": row.id},
            extra_attrs={"policy_name": row.name},
        )
    else:
        delete_schedule(s, SCHEDULE, row.id)


def _get(s: Session, policy_id: int) -> ReplicationPolicy:
    row = s.get(ReplicationPolicy, policy_id)
    if row is None:
        raise NotFoundError(f"replication policy {policy_id} not found")
    return row


def list_policies(
    ctx: RequestContext,
    *,
    q: str | None,
    sort: str | None,
    name: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict], int]:
    rbac.require_system(ctx.principal, "replication", "list")
    where = conditions(parse_q(q, set(_Q_FIELDS)), _Q_FIELDS)
    if name:
        where.append(contains(ReplicationPolicy.name, name))
    order = order_by(sort, _SORT, [ReplicationPolicy.id.asc()])
    with ctx.db.read() as s:
        rows, total = page_and_total(
            s,
            select(ReplicationPolicy).where(*where).order_by(*order),
            select(func.count()).select_from(ReplicationPolicy).where(*where),
            offset,
            limit,
        )
        return [render(ctx, s, r) for r in rows], total


def create_policy(ctx: RequestContext, body: dict[str, Any]) -> int:
    rbac.require_system(ctx.principal, "replication", "create")
    with ctx.db.transaction() as s:
        row = ReplicationPolicy()
        _apply(s, row, body)
        s.add(row)
        s.flush()
        _sync_schedule(s, row)
        audit.record(s, ctx.principal, "create", "replication_policy", row.name)
        return row.id


def get_policy(ctx: RequestContext, policy_id: int) -> dict[str, Any]:
    rbac.require_system(ctx.principal, "replication", "read")
    with ctx.db.read() as s:
        return render(ctx, s, _get(s, policy_id))


def update_policy(ctx: RequestContext, policy_id: int, body: dict[str, Any]) -> None:
    rbac.require_system(ctx.principal, "replication", "update")
    with ctx.db.transaction() as s:
        row = _get(s, policy_id)
        with s.no_autoflush:
            _apply(s, row, body)
        _sync_schedule(s, row)
        audit.record(s, ctx.principal, "update", "replication_policy", row.name)


def delete_policy(ctx: RequestContext, policy_id: int) -> None:
    rbac.require_system(ctx.principal, "replication", "delete")
    with ctx.db.transaction() as s:
        row = _get(s, policy_id)
        if s.scalar(
            select(Execution.id).where(
                Execution.vendor_type == "REPLICATION",
                Execution.vendor_id == row.id,
                Execution.status.in_(("pending", "running")),
            )
        ):
            raise PreconditionFailedError(
                f"the policy {row.name} has executions in progress; stop them before deleting it"
            )
        audit.record(s, ctx.principal, "delete", "replication_policy", row.name)
        delete_schedule(s, SCHEDULE, row.id)
        s.delete(row)
