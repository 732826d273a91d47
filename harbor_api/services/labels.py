"""Labels: global ones (system admins manage them) and project ones (project admins and
maintainers); attaching labels to artifacts lives in :mod:`artifact_labels`."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from harbor_api.auth import rbac
from harbor_api.db.models import Label, Project
from harbor_api.errors import BadRequestError, ConflictError, NotFoundError, UnauthorizedError
from harbor_api.services import audit
from harbor_api.services.context import RequestContext
from harbor_api.services.formats import iso, without_empty
from harbor_api.services.lookup import authorized_project_id
from harbor_api.services.query import condition, contains, order_by, page_and_total, parse_q

GLOBAL, PROJECT = "g", "p"
_COLOR = re.compile(r"^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$")
_SORT = {
    "name": Label.name,
    "id": Label.id,
    "creation_time": Label.creation_time,
    "update_time": Label.update_time,
}


def render(label: Label) -> dict[str, Any]:
    return without_empty(
        {
            "id": label.id,
            "name": label.name,
            "description": label.description or "",
            "color": label.color or "",
            "scope": label.scope,
            "project_id": label.project_id or 0,
            "creation_time": iso(label.creation_time),
            "update_time": iso(label.update_time),
            "deleted": False,
        },
        "description",
        "color",
    )


def list_labels(
    ctx: RequestContext,
    *,
    name: str | None,
    scope: str | None,
    project_id: int | None,
    q: str | None,
    sort: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict], int]:
    scope = scope or (PROJECT if project_id else GLOBAL)
    terms = parse_q(q, {"name", "scope", "project_id"})
    order = order_by(sort, _SORT, [Label.id.asc()])
    with ctx.db.read() as s:
        if scope == PROJECT:
            if not project_id:
                raise BadRequestError("project_id is required for project labels (scope p)")
            authorized_project_id(s, ctx.principal, project_id, "label", "list")
            where = [Label.scope == PROJECT, Label.project_id == project_id]
        else:
            if not ctx.principal.authenticated:
                raise UnauthorizedError("unauthorized")
            where = [Label.scope == GLOBAL]
        if name:
            where.append(contains(Label.name, name))
        if "name" in terms:
            where.append(condition(Label.name, terms["name"]))
        rows, total = page_and_total(
            s,
            select(Label).where(*where).order_by(*order),
            select(func.count()).select_from(Label).where(*where),
            offset,
            limit,
        )
        return [render(r) for r in rows], total


def _authorize_manage(
    s: Session, ctx: RequestContext, label_scope: str, project_id: int | None, action: str
) -> Project | None:
    if label_scope == GLOBAL:
        rbac.require_system(ctx.principal, "label", action)
        return None
    return authorized_project_id(s, ctx.principal, project_id or 0, "label", action)


def _validate(name: str | None, color: str | None) -> str:
    name = (name or "").strip()
    if not name or len(name) > 128:
        raise BadRequestError("label name is required (at most 128 characters)")
    if color and not _COLOR.match(color):
        raise BadRequestError(f"invalid color {color!r}: expected #RGB or #RRGGBB")
    return name


def _check_unique(
    s: Session, name: str, scope: str, project_id: int | None, exclude_id: int | None = None
) -> None:
    query = select(Label.id).where(
        Label.name == name,
        Label.scope == scope,
        Label.project_id.is_(None) if scope == GLOBAL else Label.project_id == project_id,
    )
    if exclude_id is not None:
        query = query.where(Label.id != exclude_id)
    if s.scalar(query) is not None:
        raise ConflictError(f"label {name} already exists")


def create_label(ctx: RequestContext, body: dict[str, Any]) -> int:
    scope = body.get("scope") or GLOBAL
    if scope not in (GLOBAL, PROJECT):
        raise BadRequestError("scope must be g (global) or p (project)")
    name = _validate(body.get("name"), body.get("color"))
    project_id = body.get("project_id") or None if scope == PROJECT else None
    if scope == PROJECT and not project_id:
        raise BadRequestError("project_id is required for project labels (scope p)")
    with ctx.db.transaction() as s:
        _authorize_manage(s, ctx, scope, project_id, "create")
        _check_unique(s, name, scope, project_id)
        label = Label(
            name=name,
            description=body.get("description") or "",
            color=body.get("color") or "",
            scope=scope,
            project_id=project_id,
        )
        s.add(label)
        s.flush()
        audit.record(s, ctx.principal, "create", "label", name, project_id)
        return label.id


def _visible_label(s: Session, ctx: RequestContext, label_id: int, action: str) -> Label:
    label = s.get(Label, label_id)
    if label is None or label.scope == PROJECT:
        try:  # a missing label does the project lookups too: it costs what a hidden one does
            authorized_project_id(
                s, ctx.principal, label.project_id or 0 if label else 0, "label", action
            )
        except NotFoundError:  # the label's project is invisible: so is the label (by id)
            raise NotFoundError(f"label {label_id} not found") from None
        if label is None:  # not reached: a missing project is always a 404
            raise NotFoundError(f"label {label_id} not found")
    elif not ctx.principal.authenticated:
        raise UnauthorizedError("unauthorized")
    return label


def get_label(ctx: RequestContext, label_id: int) -> dict[str, Any]:
    with ctx.db.read() as s:
        return render(_visible_label(s, ctx, label_id, "read"))


def update_label(ctx: RequestContext, label_id: int, body: dict[str, Any]) -> None:
    with ctx.db.transaction() as s:
        label = _visible_label(s, ctx, label_id, "read")
        _authorize_manage(s, ctx, label.scope, label.project_id, "update")
        name = _validate(body.get("name", label.name), body.get("color", label.color))
        if name != label.name:
            _check_unique(s, name, label.scope, label.project_id, exclude_id=label.id)
        label.name = name
        if "description" in body:
            label.description = body.get("description") or ""
        if "color" in body:
            label.color = body.get("color") or ""
        audit.record(s, ctx.principal, "update", "label", name, label.project_id)


def delete_label(ctx: RequestContext, label_id: int) -> None:
    with ctx.db.transaction() as s:
        label = _visible_label(s, ctx, label_id, "read")
        _authorize_manage(s, ctx, label.scope, label.project_id, "delete")
        audit.record(s, ctx.principal, "delete", "label", label.name, label.project_id)
        s.delete(label)  # artifact_labels rows go with it (ON DELETE CASCADE)
