"""Project storage quotas through the API (Harbor's ``/quotas``, project ``storage_limit``
and the summary's ``quota``). The push-time rules (reserve, charge, give back) live in
:mod:`harbor_api.services.oci.quota_checks`.

Who sees what, as Harbor: system administrators list, read and update every quota
(system ``quota:list,read,update``); a project member holding ``quota:read`` in a project
reads that project's quota (``/quotas`` filtered to such projects, and the summary).
Another caller's quota reads as missing (404), never as forbidden.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from harbor_api.auth import rbac
from harbor_api.db.base import utcnow
from harbor_api.db.models import Project, Quota, User
from harbor_api.errors import BadRequestError, NotFoundError
from harbor_api.services import configurations
from harbor_api.services.context import RequestContext
from harbor_api.services.formats import iso
from harbor_api.services.oci import quota_checks
from harbor_api.services.query import order_by, parse_sort

REFERENCE = "project"  # the only kind of quota here, as in Harbor
_SORT = {
    "id": Quota.id,
    "creation_time": Quota.creation_time,
    "update_time": Quota.update_time,
    "hard.storage": Quota.hard,
    "used.storage": Quota.used,
}


def check_limit(value: Any, field: str = "storage_limit") -> int:
    """-1 (unlimited) or a positive number of bytes."""
    if isinstance(value, bool) or not isinstance(value, int) or (value <= 0 and value != -1):
        raise BadRequestError(f"{field} must be -1 (unlimited) or a positive number of bytes")
    return value


def default_limit(ctx: RequestContext) -> int:
    """The ``storage_per_project`` configuration key: a new project's limit."""
    return int(configurations.effective(ctx.db)["storage_per_project"])


def create_for_project(session: Session, project_id: int, hard: int) -> None:
    quota_checks.create_quota(session, project_id, hard)


def set_project_limit(session: Session, project_id: int, hard: int) -> None:
    quota = session.scalar(select(Quota).where(Quota.project_id == project_id))
    if quota is None:
        quota = Quota(project_id=project_id, hard=hard, used=0, reserved=0)
        session.add(quota)
        session.flush()
        quota_checks.recount(session, project_id)
    else:
        quota.hard, quota.update_time = hard, utcnow()


def summary_quota(session: Session, principal: Any, project: Project) -> dict | None:
    """The summary's ``quota`` (None when the caller may not read it or there is none)."""
    if not rbac.can(session, principal, project, "quota", "read"):
        return None
    quota = session.scalar(select(Quota).where(Quota.project_id == project.id))
    if quota is None:
        return None
    return {"hard": {"storage": quota.hard}, "used": {"storage": quota.used}}


def _render(quota: Quota, project: Project, owner: str | None) -> dict:
    return {
        "id": quota.id,
        "ref": {"id": project.id, "name": project.name, "owner_name": owner or ""},
        "creation_time": iso(quota.creation_time),
        "update_time": iso(quota.update_time),
        "hard": {"storage": quota.hard},
        "used": {"storage": quota.used},
    }


def _query():
    return (
        select(Quota, Project, User.username)
        .join(Project, Project.id == Quota.project_id)
        .outerjoin(User, User.id == Project.owner_id)
    )


def _readable(s: Session, ctx: RequestContext, project: Project) -> bool:
    if ("quota", "read") in rbac.system_permissions(ctx.principal):
        return True
    return rbac.can(s, ctx.principal, project, "quota", "read")


def list_quotas(
    ctx: RequestContext,
    *,
    reference: str | None,
    reference_id: str | None,
    sort: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict], int]:
    rbac.require_signed_in(ctx.principal)
    parse_sort(sort, set(_SORT))
    stmt = _query().order_by(*order_by(sort, _SORT, [Quota.id.asc()]))
    if reference is not None and reference != REFERENCE:
        return [], 0
    if reference_id is not None:
        if not reference_id.isdigit():
            return [], 0
        stmt = stmt.where(Project.id == int(reference_id))
    with ctx.db.read() as s:
        if ("quota", "list") in rbac.system_permissions(ctx.principal):
            rows = s.execute(stmt).all()
        else:  # members: the projects where they hold quota:read
            visible = rbac.visible_project_filter(ctx.principal)
            if visible is not None:
                stmt = stmt.where(visible)
            rows = [r for r in s.execute(stmt).all() if _readable(s, ctx, r[1])]
        page = rows[offset : offset + limit]
        return [_render(q, p, o) for q, p, o in page], len(rows)


def _find(s: Session, ctx: RequestContext, quota_id: int) -> tuple[Quota, Project, str | None]:
    row = s.execute(_query().where(Quota.id == quota_id)).first()
    if row is None or not _readable(s, ctx, row[1]):
        raise NotFoundError(f"quota {quota_id} not found")
    return row[0], row[1], row[2]


def get_quota(ctx: RequestContext, quota_id: int) -> dict:
    rbac.require_signed_in(ctx.principal)
    with ctx.db.read() as s:
        return _render(*_find(s, ctx, quota_id))


def update_quota(ctx: RequestContext, quota_id: int, body: dict) -> None:
    """System administrators only; ``hard.storage`` -1 or a positive number of bytes."""
    rbac.require_system(ctx.principal, "quota", "update")
    hard = body.get("hard") or {}
    if "storage" not in hard:
        raise BadRequestError("hard.storage is required")
    limit = check_limit(hard["storage"], "hard.storage")
    with ctx.db.transaction() as s:
        quota = _find(s, ctx, quota_id)[0]
        quota.hard, quota.update_time = limit, utcnow()
