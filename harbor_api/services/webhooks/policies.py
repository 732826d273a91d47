"""Webhook policies of a project (Harbor's ``/projects/{p}/webhook/policies``).

Harbor's RBAC resource ``notification-policy``: project admins (and system admins) create,
read, update and delete; maintainers list. A PUT replaces the whole policy, as in Harbor
(``enabled`` absent is false). Addresses are kept as ``scheme://host/path`` (Harbor drops
credentials, query and fragment against SSRF tricks).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session

from harbor_api.db.models import Execution, Project, Task, WebhookPolicy
from harbor_api.errors import BadRequestError, ConflictError, NotFoundError
from harbor_api.services import audit
from harbor_api.services.context import RequestContext
from harbor_api.services.formats import iso
from harbor_api.services.lookup import ProjectNameOrId, authorized_project_ref
from harbor_api.services.query import (
    INT,
    TEXT,
    conditions,
    order_by,
    page_and_total,
    parse_q,
)
from harbor_api.services.webhooks import catalog
from harbor_api.services.webhooks.policy_cache import POLICY_CACHE

RESOURCE = "notification-policy"
SORT = {
    "id": WebhookPolicy.id,
    "name": WebhookPolicy.name,
    "creation_time": WebhookPolicy.creation_time,
    "update_time": WebhookPolicy.update_time,
}
_Q_FIELDS = {
    "name": (WebhookPolicy.name, TEXT),
    "description": (WebhookPolicy.description, TEXT),
    "id": (WebhookPolicy.id, INT),
}


def render(row: WebhookPolicy) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "description": row.description or "",
        "project_id": row.project_id,
        "targets": json.loads(row.targets or "[]"),
        "event_types": json.loads(row.event_types or "[]"),
        "creator": row.creator or "",
        "creation_time": iso(row.creation_time),
        "update_time": iso(row.update_time),
        "enabled": bool(row.enabled),
    }


def _address(raw: Any) -> str:
    parts = urlsplit(raw if isinstance(raw, str) else "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadRequestError(f"invalid target address {str(raw)[:200]!r}: an http(s) URL")
    try:
        port = parts.port
    except ValueError:
        raise BadRequestError(f"invalid port in target address {str(raw)[:200]!r}") from None
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    return f"{parts.scheme}://{host}{f':{port}' if port else ''}{parts.path}"


def _target(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise BadRequestError("a target is an object")
    kind = raw.get("type")
    if kind not in catalog.NOTIFY_TYPES:
        raise BadRequestError(
            f"unsupported target type {kind!r}; supported: {', '.join(catalog.NOTIFY_TYPES)}"
        )
    payload_format = raw.get("payload_format") or ""
    if payload_format and kind == catalog.SLACK:
        raise BadRequestError("set payload format is not allowed for slack")
    if payload_format and payload_format not in catalog.PAYLOAD_FORMATS:
        raise BadRequestError(f"unsupported payload format type: {payload_format}")
    target: dict[str, Any] = {
        "type": kind,
        "address": _address(raw.get("address")),
        "auth_header": raw.get("auth_header") or "",
        "skip_cert_verify": bool(raw.get("skip_cert_verify")),
    }
    if kind == catalog.HTTP:
        target["payload_format"] = payload_format or catalog.DEFAULT_FORMAT
    return target


def _apply(s: Session, row: WebhookPolicy, body: dict[str, Any]) -> None:
    """Check the whole body and write it into ``row`` (create and replace alike)."""
    name = (body.get("name") or "").strip()
    if not name or len(name) > 256:
        raise BadRequestError("policy name is required (at most 256 characters)")
    events = body.get("event_types") or []
    if not events:
        raise BadRequestError("empty event type")
    for event in events:
        if event not in catalog.EVENT_TYPES:
            raise BadRequestError(f"unsupported event type {event}")
    targets = [_target(t) for t in body.get("targets") or []]
    if not targets:
        raise BadRequestError(f"empty notification target with policy {name}")
    if s.scalar(
        select(WebhookPolicy.id).where(
            WebhookPolicy.project_id == row.project_id,
            WebhookPolicy.name == name,
            WebhookPolicy.id != (row.id or 0),
        )
    ):
        raise ConflictError(f"notification policy {name} already exists")
    row.name, row.description = name, body.get("description") or ""
    row.event_types = json.dumps(list(dict.fromkeys(events)))
    row.targets = json.dumps(targets)
    row.enabled = bool(body.get("enabled"))


def _project(s: Session, ctx: RequestContext, ref: ProjectNameOrId, action: str) -> Project:
    return authorized_project_ref(s, ctx.principal, ref, RESOURCE, action)


def policy_in_project(s: Session, project_id: int, policy_id: int) -> WebhookPolicy:
    row = s.get(WebhookPolicy, policy_id)
    if row is None or row.project_id != project_id:
        raise NotFoundError(f"webhook policy {policy_id} not found")
    return row


def list_policies(
    ctx: RequestContext,
    ref: ProjectNameOrId,
    *,
    q: str | None,
    sort: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict], int]:
    with ctx.db.read() as s:
        project = _project(s, ctx, ref, "list")
        where = [
            WebhookPolicy.project_id == project.id,
            *conditions(parse_q(q, set(_Q_FIELDS)), _Q_FIELDS),
        ]
        rows, total = page_and_total(
            s,
            select(WebhookPolicy).where(*where).order_by(*order_by(sort, SORT, [WebhookPolicy.id])),
            select(func.count()).select_from(WebhookPolicy).where(*where),
            offset,
            limit,
        )
        return [render(r) for r in rows], total


def create_policy(ctx: RequestContext, ref: ProjectNameOrId, body: dict[str, Any]) -> int:
    with ctx.db.transaction() as s:
        project = _project(s, ctx, ref, "create")
        row = WebhookPolicy(project_id=project.id, creator=audit.actor(ctx.principal))
        _apply(s, row, body)
        s.add(row)
        s.flush()
        audit.record(s, ctx.principal, "create", "notification_policy", row.name, project.id)
        policy_id = row.id
    POLICY_CACHE.invalidate()
    return policy_id


def get_policy(ctx: RequestContext, ref: ProjectNameOrId, policy_id: int) -> dict[str, Any]:
    with ctx.db.read() as s:
        project = _project(s, ctx, ref, "read")
        return render(policy_in_project(s, project.id, policy_id))


def update_policy(
    ctx: RequestContext, ref: ProjectNameOrId, policy_id: int, body: dict[str, Any]
) -> None:
    with ctx.db.transaction() as s:
        project = _project(s, ctx, ref, "update")
        row = policy_in_project(s, project.id, policy_id)
        with s.no_autoflush:
            _apply(s, row, body)
        audit.record(s, ctx.principal, "update", "notification_policy", row.name, project.id)
    POLICY_CACHE.invalidate()


def delete_policy(ctx: RequestContext, ref: ProjectNameOrId, policy_id: int) -> None:
    """The policy goes with its executions and their tasks (Harbor deletes them too)."""
    with ctx.db.transaction() as s:
        project = _project(s, ctx, ref, "delete")
        row = policy_in_project(s, project.id, policy_id)
        executions = select(Execution.id).where(
            Execution.vendor_type.in_(catalog.VENDOR_TYPES), Execution.vendor_id == row.id
        )
        s.execute(delete(Task).where(Task.execution_id.in_(executions)))
        s.execute(
            delete(Execution).where(
                Execution.vendor_type.in_(catalog.VENDOR_TYPES), Execution.vendor_id == row.id
            )
        )
        audit.record(s, ctx.principal, "delete", "notification_policy", row.name, project.id)
        s.delete(row)
    POLICY_CACHE.invalidate()


def supported_event_types(ctx: RequestContext, ref: ProjectNameOrId) -> dict[str, Any]:
    with ctx.db.read() as s:
        _project(s, ctx, ref, "read")
    return {
        "event_type": list(catalog.EVENT_TYPES),
        "notify_type": list(catalog.NOTIFY_TYPES),
        "payload_formats": [
            {"notify_type": catalog.HTTP, "formats": list(catalog.PAYLOAD_FORMATS)}
        ],
    }


def last_triggers(ctx: RequestContext, ref: ProjectNameOrId) -> list[dict[str, Any]]:
    """One entry per (policy, event type): when that event last started a delivery."""
    with ctx.db.read() as s:
        project = _project(s, ctx, ref, "read")
        rows = list(
            s.scalars(
                select(WebhookPolicy)
                .where(WebhookPolicy.project_id == project.id)
                .order_by(WebhookPolicy.id)
            )
        )
        latest: dict[tuple[int, str], Any] = {}
        if rows:
            # executions store {"event_type": ..., "payload": ...}: the event is their prefix
            event = case(
                *(
                    (Execution.extra_attrs.like(f'{{"event_type": "{e}"%'), e)
                    for e in catalog.EVENT_TYPES
                ),
                else_="",
            )
            found = s.execute(
                select(Execution.vendor_id, event, func.max(Execution.start_time))
                .where(
                    Execution.vendor_type.in_(catalog.VENDOR_TYPES),
                    Execution.vendor_id.in_([r.id for r in rows]),
                )
                .group_by(Execution.vendor_id, event)
            )
            latest = {(vendor_id, kind): started for vendor_id, kind, started in found}
        result = []
        for row in rows:
            for event in json.loads(row.event_types or "[]"):
                item: dict[str, Any] = {
                    "policy_name": row.name,
                    "event_type": event,
                    "enabled": bool(row.enabled),
                    "creation_time": iso(row.creation_time),
                }
                if (row.id, event) in latest:
                    item["last_trigger_time"] = iso(latest[(row.id, event)])
                result.append(item)
        return result
