"""Projects: creation, visibility-aware listing, settings (metadata), deletion, summary."""

from __future__ import annotations

import json
import re

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from harbor_api.auth import rbac
from harbor_api.auth.principal import Principal
from harbor_api.db.base import utcnow
from harbor_api.db.models import (
    CVEAllowlist,
    Project,
    ProjectMember,
    ProjectMetadata,
    RegistryEndpoint,
    Repository,
    Robot,
    User,
)
from harbor_api.errors import (
    BadRequestError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PreconditionFailedError,
    UnauthorizedError,
)
from harbor_api.services import audit, configurations, quotas
from harbor_api.services.context import RequestContext
from harbor_api.services.lookup import ProjectNameOrId, authorized_project_ref
from harbor_api.services.query import (
    INT,
    TEXT,
    TIME,
    Term,
    condition,
    filter_by_q,
    order_by,
)

NAME_PATTERN = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
BOOL_KEYS = frozenset(
    {
        "public",
        "enable_content_trust",
        "enable_content_trust_cosign",
        "prevent_vul",
        "auto_scan",
        "auto_sbom_generation",
        "reuse_sys_cve_allowlist",
        "proxy_cache_local_on_not_found",
    }
)
SEVERITIES = ("none", "low", "medium", "high", "critical")
METADATA_KEYS = BOOL_KEYS | {"severity", "retention_id", "proxy_speed_kb", "max_upstream_conn"}
_UNLIMITED_ALLOWED = frozenset({"proxy_speed_kb", "max_upstream_conn"})  # -1: unlimited
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def validate_name(name: str | None) -> str:
    if not name or len(name) > 255 or not NAME_PATTERN.match(name):
        raise BadRequestError(
            "project name must be 1-255 characters of lower case letters, "
            "digits and . _ - (not at the start or end, not repeated)"
        )
    return name


def normalize_metadata(entries: dict | None) -> dict[str, str]:
    """Harbor's rules: known keys only, flags as "true"/"false", values as strings."""
    result: dict[str, str] = {}
    for key, value in (entries or {}).items():
        if value is None:
            continue
        if key not in METADATA_KEYS:
            raise BadRequestError(f"unknown project metadata {key!r}")
        result[key] = _metadata_value(key, value)
    return result


def _metadata_value(key: str, value) -> str:
    text = str(value).lower() if isinstance(value, bool) else str(value).strip()
    if key in BOOL_KEYS:
        if text in _TRUE:
            return "true"
        if text in _FALSE:
            return "false"
        raise BadRequestError(f"project metadata {key} must be true or false")
    if key == "severity":
        if text.lower() not in SEVERITIES:
            raise BadRequestError(f"severity must be one of {', '.join(SEVERITIES)}")
        return text.lower()
    try:
        number = int(text)
    except ValueError:
        raise BadRequestError(f"project metadata {key} must be an integer") from None
    if number < (-1 if key in _UNLIMITED_ALLOWED else 0):
        raise BadRequestError(f"project metadata {key} is out of range")
    return str(number)


def normalize_allowlist(raw) -> tuple[int | None, list[dict]] | None:
    """Harbor's CVEAllowlist body → (expires_at or None for never, items); None if absent.
    CVE ids are trimmed and kept once each, in order."""
    if raw is None:
        return None
    expires = raw.get("expires_at")
    if expires is not None and (
        isinstance(expires, bool) or not isinstance(expires, int) or expires < 0
    ):
        raise BadRequestError("cve_allowlist.expires_at must be Unix seconds (or null: never)")
    items: list[dict] = []
    seen: set[str] = set()
    for item in raw.get("items") or []:
        cve = item.get("cve_id") if isinstance(item, dict) else None
        cve = cve.strip() if isinstance(cve, str) else ""
        if not cve or len(cve) > 64:
            raise BadRequestError(
                "every cve_allowlist item needs a cve_id (at most 64 "
                "characters), such as CVE-2019-10164"
            )
        if cve not in seen:
            seen.add(cve)
            items.append({"cve_id": cve})
    return expires, items


def _store_allowlist(s: Session, project_id: int, allowlist: tuple[int | None, list[dict]]) -> None:
    expires, items = allowlist
    row = s.scalar(select(CVEAllowlist).where(CVEAllowlist.project_id == project_id))
    if row is None:
        s.add(CVEAllowlist(project_id=project_id, expires_at=expires, items=json.dumps(items)))
    else:
        row.expires_at, row.items, row.update_time = expires, json.dumps(items), utcnow()


def _check_storage_limit(limit: int | None) -> None:
    if limit is not None and (limit == 0 or limit < -1):
        raise BadRequestError("storage_limit must be -1 (unlimited) or a positive number of bytes")


def create(ctx: RequestContext, body: dict) -> Project:
    principal = ctx.principal
    if not principal.authenticated:
        raise UnauthorizedError("unauthorized")
    if principal.kind != "user":  # robots hold project-scoped access only
        raise ForbiddenError("robot accounts cannot create projects")
    restriction = configurations.effective(ctx.db)["project_creation_restriction"]
    if restriction == "adminonly" and not principal.sysadmin:
        raise ForbiddenError("Only system admin can create project")
    name = validate_name(body.get("project_name"))
    registry_id = body.get("registry_id") or None
    if registry_id is not None and not principal.sysadmin:
        raise ForbiddenError("Only system admin can create proxy cache project")
    _check_storage_limit(body.get("storage_limit"))
    limit = body.get("storage_limit")
    if limit is None or ("quota", "update") not in rbac.system_permissions(principal):
        limit = quotas.default_limit(ctx)  # as Harbor: only an admin picks another limit
    metadata = normalize_metadata(body.get("metadata"))
    allowlist = normalize_allowlist(body.get("cve_allowlist"))
    if "public" not in metadata:
        public = body.get("public")
        metadata["public"] = "true" if public else "false"
    try:
        with ctx.db.transaction() as s:
            if s.scalar(select(Project.id).where(Project.name == name)) is not None:
                raise ConflictError(f"The project named {name} already exists")
            _check_registry(s, registry_id)
            project = Project(name=name, owner_id=principal.user_id, registry_id=registry_id)
            project.metadata_entries.extend(
                ProjectMetadata(name=k, value=v) for k, v in sorted(metadata.items())
            )
            s.add(project)
            s.flush()
            if allowlist is not None:
                _store_allowlist(s, project.id, allowlist)
            quotas.create_for_project(s, project.id, limit)
            if principal.kind == "user" and principal.user_id is not None:
                s.add(
                    ProjectMember(
                        project_id=project.id,
                        entity_id=principal.user_id,
                        entity_type="u",
                        role=rbac.PROJECT_ADMIN,
                    )
                )
            audit.record(s, principal, "create", "project", name, project.id)
            return project
    except IntegrityError:
        raise ConflictError(f"The project named {name} already exists") from None


def _check_registry(s: Session, registry_id: int | None) -> None:
    """A proxy-cache project's upstream must be a stored registry endpoint."""
    if registry_id is not None and s.get(RegistryEndpoint, registry_id) is None:
        raise BadRequestError(f"registry {registry_id} not found")


def set_metadata(session: Session, project: Project, values: dict[str, str]) -> None:
    current = {m.name: m for m in project.metadata_entries}
    for key, value in values.items():
        if key in current:
            current[key].value = value
        else:
            project.metadata_entries.append(ProjectMetadata(name=key, value=value))


def update(ctx: RequestContext, ref: ProjectNameOrId, body: dict) -> None:
    metadata = normalize_metadata(body.get("metadata"))
    if body.get("public") is not None and "public" not in metadata:
        metadata["public"] = "true" if body["public"] else "false"
    _check_storage_limit(body.get("storage_limit"))
    allowlist = normalize_allowlist(body.get("cve_allowlist"))
    with ctx.db.transaction() as s:
        project = authorized_project_ref(s, ctx.principal, ref, "project", "update")
        if (body.get("registry_id") or None) not in (None, project.registry_id):
            raise BadRequestError(
                "the registry of a project cannot be changed: a proxy "
                "cache project stays one, an ordinary project too"
            )
        if body.get("storage_limit") is not None:  # a quota change: system admins only
            rbac.require_system(ctx.principal, "quota", "update")
            quotas.set_project_limit(s, project.id, body["storage_limit"])
        set_metadata(s, project, metadata)
        if allowlist is not None:
            _store_allowlist(s, project.id, allowlist)
        project.update_time = utcnow()
        audit.record(s, ctx.principal, "update", "project", project.name, project.id)


def remove(ctx: RequestContext, ref: ProjectNameOrId) -> None:
    with ctx.db.transaction() as s:
        project = authorized_project_ref(s, ctx.principal, ref, "project", "delete")
        repos = s.scalar(
            select(func.count()).select_from(Repository).where(Repository.project_id == project.id)
        )
        if repos:
            raise PreconditionFailedError(
                f"project {project.name} still contains {repos} repositories; delete them first"
            )
        s.execute(delete(ProjectMember).where(ProjectMember.project_id == project.id))
        _forget_in_system_robots(s, project.name)
        audit.record(s, ctx.principal, "delete", "project", project.name, project.id)
        s.delete(project)


def _forget_in_system_robots(s: Session, name: str) -> None:
    """System robots name projects; a later project of the same name must not inherit them.
    (Project robots go with their project: ON DELETE CASCADE.)"""
    needle = json.dumps({"namespace": name})[1:-1]  # '"namespace": "<name>"'
    for robot in s.scalars(
        select(Robot).where(
            Robot.level == "system", Robot.permissions.contains(needle, autoescape=True)
        )
    ):
        kept = [p for p in json.loads(robot.permissions or "[]") if p.get("namespace") != name]
        robot.permissions = json.dumps(kept)


def exists(ctx: RequestContext, name: str) -> bool:
    if not ctx.principal.authenticated:
        raise UnauthorizedError("unauthorized")
    with ctx.db.read() as s:
        return s.scalar(select(Project.id).where(Project.name == name)) is not None


def check_exists(ctx: RequestContext, name: str) -> None:
    """``HEAD /projects?project_name=``: 404 unless a project of that name exists (as
    Harbor, for any signed-in caller, whether or not they may see it)."""
    if not exists(ctx, name):
        raise NotFoundError(f"project {name} not found")


def summary(ctx: RequestContext, ref: ProjectNameOrId) -> dict:
    with ctx.db.read() as s:
        project = authorized_project_ref(s, ctx.principal, ref)
        repos = (
            s.scalar(
                select(func.count())
                .select_from(Repository)
                .where(Repository.project_id == project.id)
            )
            or 0
        )
        counts = dict(
            s.execute(
                select(ProjectMember.role, func.count())
                .where(ProjectMember.project_id == project.id)
                .group_by(ProjectMember.role)
            ).all()
        )
        upstream = _summary_registry(
            s.get(RegistryEndpoint, project.registry_id) if project.registry_id else None
        )
        quota = quotas.summary_quota(s, ctx.principal, project)
    return {
        "repo_count": repos,
        "project_admin_count": counts.get(rbac.PROJECT_ADMIN, 0),
        "maintainer_count": counts.get(rbac.MAINTAINER, 0),
        "developer_count": counts.get(rbac.DEVELOPER, 0),
        "guest_count": counts.get(rbac.GUEST, 0),
        "limited_guest_count": counts.get(rbac.LIMITED_GUEST, 0),
        "registry": upstream,
        **({"quota": quota} if quota is not None else {}),
    }


def _summary_registry(row: RegistryEndpoint | None) -> dict | None:
    """A proxy cache's upstream, as Harbor's summary shows it (no credential)."""
    if row is None:
        return None
    return {
        "id": row.id,
        "name": row.name,
        "url": row.url,
        "type": row.type,
        "description": row.description or "",
    }


# --- reading --------------------------------------------------------------------------------


def _public_ids():
    return select(ProjectMetadata.project_id).where(
        ProjectMetadata.name == "public", ProjectMetadata.value == "true"
    )


def _bool_param(value: str) -> bool:
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise BadRequestError(f"{value!r} is not true or false")


def list_projects(
    ctx: RequestContext,
    page,
    q: str | None = None,
    sort: str | None = None,
    name: str | None = None,
    public: bool | None = None,
    owner: str | None = None,
) -> tuple[list, int]:
    principal = ctx.principal
    stmt = select(Project, User.username).outerjoin(User, User.id == Project.owner_id)
    visible = rbac.visible_project_filter(principal)
    if visible is not None:
        stmt = stmt.where(visible)
    if name:
        stmt = stmt.where(condition(Project.name, Term("name", "fuzzy", name)))
    if public is not None:
        stmt = stmt.where(
            Project.id.in_(_public_ids()) if public else Project.id.not_in(_public_ids())
        )
    if owner:
        stmt = stmt.where(User.username == owner)
    terms = parse_public_term(q)
    if terms is not None:
        q, public_term = terms
        if public_term is not None:
            stmt = stmt.where(
                Project.id.in_(_public_ids()) if public_term else Project.id.not_in(_public_ids())
            )
    stmt = filter_by_q(
        stmt,
        q,
        {
            "name": (Project.name, TEXT),
            "project_id": (Project.id, INT),
            "owner": (User.username, TEXT),
            "creation_time": (Project.creation_time, TIME),
            "update_time": (Project.update_time, TIME),
        },
    )
    stmt = stmt.order_by(
        *order_by(
            sort,
            {
                "name": Project.name,
                "project_id": Project.id,
                "creation_time": Project.creation_time,
                "update_time": Project.update_time,
            },
            [Project.name],
        )
    )
    with ctx.db.read() as s:
        total = s.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
        rows = s.execute(stmt.offset(page.offset).limit(page.page_size)).all()
        return render_many(s, principal, [(p, owner_name) for p, owner_name in rows]), total


def parse_public_term(q: str | None) -> tuple[str, bool | None] | None:
    """Split ``public=true|false`` off ``q`` (it is stored as metadata, not a column)."""
    if not q:
        return None
    kept, public = [], None
    for part in q.split(","):
        key, _, value = part.partition("=")
        if key.strip() == "public":
            public = _bool_param(value.strip().strip("\"'"))
        else:
            kept.append(part)
    return ",".join(kept), public


def get(ctx: RequestContext, ref: ProjectNameOrId) -> dict:
    with ctx.db.read() as s:
        project = authorized_project_ref(s, ctx.principal, ref)
        owner = (
            s.scalar(select(User.username).where(User.id == project.owner_id))
            if project.owner_id
            else None
        )
        return render_many(s, ctx.principal, [(project, owner)])[0]


def render_many(s: Session, principal: Principal, rows: list[tuple[Project, str | None]]) -> list:
    """Project JSON for a page: repository counts and roles in one query each (no N+1)."""
    ids = [p.id for p, _ in rows]
    repo_counts: dict[int, int] = {}
    roles: dict[int, list[int]] = {}
    allowlists: dict[int, CVEAllowlist] = {}
    if ids:
        repo_counts = dict(
            s.execute(
                select(Repository.project_id, func.count())
                .where(Repository.project_id.in_(ids))
                .group_by(Repository.project_id)
            ).all()
        )
        roles = _roles_by_project(s, principal, ids)
        allowlists = {
            a.project_id: a
            for a in s.scalars(select(CVEAllowlist).where(CVEAllowlist.project_id.in_(ids)))
        }
    return [
        _render(
            p, owner, repo_counts.get(p.id, 0), roles.get(p.id, []), principal, allowlists.get(p.id)
        )
        for p, owner in rows
    ]


def _render_allowlist(project_id: int, row: CVEAllowlist | None) -> dict:
    """Harbor's CVEAllowlist; a project that never set one has an empty list."""
    if row is None:
        return {"project_id": project_id, "items": []}
    body = {
        "id": row.id,
        "project_id": project_id,
        "items": json.loads(row.items or "[]"),
        "creation_time": row.creation_time,
        "update_time": row.update_time,
    }
    if row.expires_at is not None:
        body["expires_at"] = row.expires_at
    return body


def _roles_by_project(s: Session, principal: Principal, ids: list[int]) -> dict[int, list[int]]:
    if principal.kind != "user" or principal.user_id is None:
        return {}
    entity = (ProjectMember.entity_type == "u") & (ProjectMember.entity_id == principal.user_id)
    if principal.group_ids:
        entity = entity | (
            (ProjectMember.entity_type == "g") & ProjectMember.entity_id.in_(principal.group_ids)
        )
    result: dict[int, list[int]] = {}
    for project_id, role in s.execute(
        select(ProjectMember.project_id, ProjectMember.role).where(
            ProjectMember.project_id.in_(ids), entity
        )
    ):
        result.setdefault(project_id, []).append(role)
    return result


def _render(
    project: Project,
    owner: str | None,
    repo_count: int,
    roles: list[int],
    principal: Principal,
    allowlist: CVEAllowlist | None = None,
) -> dict:
    metadata = {m.name: m.value for m in project.metadata_entries}
    metadata.setdefault("public", "false")
    best = rbac.best_role(roles)
    body = {
        "project_id": project.id,
        "owner_id": project.owner_id or 0,
        "name": project.name,
        "registry_id": project.registry_id or 0,
        "creation_time": project.creation_time,
        "update_time": project.update_time,
        "deleted": False,
        "owner_name": owner or "",
        "togglable": principal.sysadmin or rbac.PROJECT_ADMIN in roles,
        "current_user_role_ids": sorted(set(roles)),
        "repo_count": repo_count,
        "metadata": metadata,
        "cve_allowlist": _render_allowlist(project.id, allowlist),
    }
    if best is not None:
        body["current_user_role_id"] = best
    return body


# --- metadata endpoints -----------------------------------------------------------------------


def list_metadata(ctx: RequestContext, ref: ProjectNameOrId) -> dict[str, str]:
    with ctx.db.read() as s:
        project = authorized_project_ref(s, ctx.principal, ref, "metadata", "read")
        return {m.name: m.value for m in project.metadata_entries}


def add_metadata(
    ctx: RequestContext, ref: ProjectNameOrId, body: dict, only: str | None = None
) -> None:
    """Add or change metadata; ``only`` restricts the body to that one name (update)."""
    values = normalize_metadata(body)
    if only is not None and set(values) != {only}:
        raise BadRequestError(f"the body must hold exactly the metadata {only!r}")
    if not values:
        raise BadRequestError("no metadata given")
    action = "update" if only else "create"
    with ctx.db.transaction() as s:
        project = authorized_project_ref(s, ctx.principal, ref, "metadata", action)
        set_metadata(s, project, values)
        project.update_time = utcnow()
        audit.record(
            s,
            ctx.principal,
            "update",
            "project",
            f"{project.name} metadata {','.join(sorted(values))}",
            project.id,
        )


def get_metadata(ctx: RequestContext, ref: ProjectNameOrId, name: str) -> dict[str, str]:
    with ctx.db.read() as s:
        project = authorized_project_ref(s, ctx.principal, ref, "metadata", "read")
        for entry in project.metadata_entries:
            if entry.name == name:
                return {name: entry.value}
    raise NotFoundError(f"metadata {name} not found")


def delete_metadata(ctx: RequestContext, ref: ProjectNameOrId, name: str) -> None:
    with ctx.db.transaction() as s:
        project = authorized_project_ref(s, ctx.principal, ref, "metadata", "delete")
        entry = next((m for m in project.metadata_entries if m.name == name), None)
        if entry is None:
            raise NotFoundError(f"metadata {name} not found")
        project.metadata_entries.remove(entry)
        project.update_time = utcnow()
        audit.record(
            s,
            ctx.principal,
            "update",
            "project",
            f"{project.name} metadata {name} removed",
            project.id,
        )
