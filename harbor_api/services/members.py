"""Project members: users and groups with a role in a project."""

from __future__ import annotations

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from harbor_api.auth import rbac
from harbor_api.db.base import utcnow
from harbor_api.db.models import ProjectMember, User, UserGroup
from harbor_api.errors import BadRequestError, ConflictError, ForbiddenError, NotFoundError
from harbor_api.services import audit
from harbor_api.services.context import RequestContext
from harbor_api.services.lookup import ProjectNameOrId, authorized_project_ref
from harbor_api.services.query import Term, condition
from harbor_api.services.usergroups import member_group_by_dn

_ENTITY_NAME = func.coalesce(User.username, UserGroup.group_name)


def _select():
    return (
        select(ProjectMember, _ENTITY_NAME.label("entity_name"))
        .outerjoin(User, and_(ProjectMember.entity_type == "u", User.id == ProjectMember.entity_id))
        .outerjoin(
            UserGroup,
            and_(ProjectMember.entity_type == "g", UserGroup.id == ProjectMember.entity_id),
        )
    )


def render(member: ProjectMember, entity_name: str | None) -> dict:
    return {
        "id": member.id,
        "project_id": member.project_id,
        "entity_name": entity_name or "",
        "role_name": rbac.ROLE_NAMES.get(member.role, ""),
        "role_id": member.role,
        "entity_id": member.entity_id,
        "entity_type": member.entity_type,
    }


def _within_caller(ctx: RequestContext, project, role: int) -> None:
    """A robot allowed to manage members gives at most the access it holds itself (else a
    member:create robot could make anyone projectAdmin); users are bounded by their role."""
    caller = ctx.principal
    if caller.kind != "robot":
        return
    held = {(res, act) for ns, res, act in caller.robot_access if ns in ("*", project.name)}
    if not rbac.ROLE_PERMISSIONS[role] <= held:
        raise ForbiddenError(
            f"a robot cannot grant the role {rbac.ROLE_NAMES[role]}: it "
            "does not hold all of its permissions"
        )


def _check_role(role_id) -> int:
    if role_id not in rbac.ROLE_NAMES:
        raise BadRequestError(
            "role_id must be 1 (projectAdmin), 2 (developer), 3 (guest), "
            "4 (maintainer) or 5 (limitedGuest)"
        )
    return role_id


def list_members(
    ctx: RequestContext, ref: ProjectNameOrId, page, entityname: str | None
) -> tuple[list, int]:
    with ctx.db.read() as s:
        project = authorized_project_ref(s, ctx.principal, ref, "member", "list")
        stmt = _select().where(ProjectMember.project_id == project.id)
        if entityname:
            stmt = stmt.where(condition(_ENTITY_NAME, Term("entityname", "fuzzy", entityname)))
        total = s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = s.execute(
            stmt.order_by(ProjectMember.id).offset(page.offset).limit(page.page_size)
        ).all()
        return [render(m, name) for m, name in rows], total


def _entity(s: Session, body: dict, ctx: RequestContext | None = None) -> tuple[str, int, str]:
    """(entity_type, entity_id, name) for the body's member_user or member_group."""
    user = body.get("member_user")
    group = body.get("member_group")
    if user:
        if user.get("user_id"):
            found = s.get(User, user["user_id"])
        elif user.get("username"):
            found = s.scalar(select(User).where(User.username == user["username"]))
        else:
            raise BadRequestError("member_user needs a user_id or a username")
        if found is None:
            raise NotFoundError(f"user {user.get('username') or user.get('user_id')} not found")
        return "u", found.id, found.username
    if group:
        if group.get("id"):
            found_group = s.get(UserGroup, group["id"])
        elif group.get("ldap_group_dn") and ctx is not None:  # LDAP group by DN (onboarded)
            found_group = member_group_by_dn(s, ctx, group["ldap_group_dn"])
        elif group.get("ldap_group_dn"):
            found_group = s.scalar(
                select(UserGroup).where(UserGroup.ldap_group_dn == group["ldap_group_dn"])
            )
        else:
            raise BadRequestError("member_group needs an id or an ldap_group_dn")
        if found_group is None:
            raise NotFoundError("user group not found")
        return "g", found_group.id, found_group.group_name
    raise BadRequestError("either member_user or member_group is required")


def create(ctx: RequestContext, ref: ProjectNameOrId, body: dict) -> int:
    role = _check_role(body.get("role_id"))
    try:
        with ctx.db.transaction() as s:
            project = authorized_project_ref(s, ctx.principal, ref, "member", "create")
            _within_caller(ctx, project, role)
            entity_type, entity_id, name = _entity(s, body, ctx)
            if (
                s.scalar(
                    select(ProjectMember.id).where(
                        ProjectMember.project_id == project.id,
                        ProjectMember.entity_type == entity_type,
                        ProjectMember.entity_id == entity_id,
                    )
                )
                is not None
            ):
                raise ConflictError("The project member specified already exist")
            member = ProjectMember(
                project_id=project.id, entity_type=entity_type, entity_id=entity_id, role=role
            )
            s.add(member)
            s.flush()
            audit.record(
                s,
                ctx.principal,
                "create",
                "member",
                f"{project.name}:{name}:{rbac.ROLE_NAMES[role]}",
                project.id,
            )
            return member.id
    except IntegrityError:
        raise ConflictError("The project member specified already exist") from None


def _member_not_found(project_id: int, member_id: int) -> str:
    return f"the project member is not found, project id {project_id}, member id {member_id}"


def _load_member(s: Session, project_id: int, member_id: int) -> ProjectMember:
    member = s.get(ProjectMember, member_id)
    if member is None or member.project_id != project_id:
        raise NotFoundError(_member_not_found(project_id, member_id))
    return member


def get(ctx: RequestContext, ref: ProjectNameOrId, member_id: int) -> dict:
    with ctx.db.read() as s:
        project = authorized_project_ref(s, ctx.principal, ref, "member", "read")
        row = s.execute(
            _select().where(ProjectMember.project_id == project.id, ProjectMember.id == member_id)
        ).first()
        if row is None:
            raise NotFoundError(_member_not_found(project.id, member_id))
        return render(row[0], row[1])


def update(ctx: RequestContext, ref: ProjectNameOrId, member_id: int, role_id) -> None:
    role = _check_role(role_id)
    with ctx.db.transaction() as s:
        project = authorized_project_ref(s, ctx.principal, ref, "member", "update")
        _within_caller(ctx, project, role)
        member = _load_member(s, project.id, member_id)
        member.role = role
        member.update_time = utcnow()
        audit.record(
            s,
            ctx.principal,
            "update",
            "member",
            f"{project.name}:{member.entity_type}{member.entity_id}:{rbac.ROLE_NAMES[role]}",
            project.id,
        )


def remove(ctx: RequestContext, ref: ProjectNameOrId, member_id: int) -> None:
    with ctx.db.transaction() as s:
        project = authorized_project_ref(s, ctx.principal, ref, "member", "delete")
        member = _load_member(s, project.id, member_id)
        audit.record(
            s,
            ctx.principal,
            "delete",
            "member",
            f"{project.name}:{member.entity_type}{member.entity_id}",
            project.id,
        )
        s.delete(member)
