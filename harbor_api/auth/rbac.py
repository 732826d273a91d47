"""Who may do what: Harbor's project roles as data, one check used by every edge.

The same rules answer ``/users/current/permissions``; see ``docs/permissions.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from harbor_api.auth.principal import Principal
from harbor_api.db.models import Project, ProjectMember, ProjectMetadata
from harbor_api.errors import ForbiddenError, NotFoundError, UnauthorizedError

PROJECT_ADMIN, DEVELOPER, GUEST, MAINTAINER, LIMITED_GUEST = 1, 2, 3, 4, 5
ROLE_NAMES = {
    PROJECT_ADMIN: "projectAdmin",
    DEVELOPER: "developer",
    GUEST: "guest",
    MAINTAINER: "maintainer",
    LIMITED_GUEST: "limitedGuest",
}
# Higher rank wins when a user holds several roles (direct and through groups).
ROLE_RANK = {PROJECT_ADMIN: 5, MAINTAINER: 4, DEVELOPER: 3, GUEST: 2, LIMITED_GUEST: 1}


class ProjectKey(Protocol):
    """What the checks need of a project: an ORM ``Project`` or a lighter (id, name) ref."""

    @property
    def id(self) -> int: ...

    @property
    def name(self) -> str: ...


P = TypeVar("P", bound=ProjectKey)


def _grants(spec: str) -> frozenset[tuple[str, str]]:
    """``"repository:pull,push tag:list"`` → {("repository","pull"), ...}."""
    out: set[tuple[str, str]] = set()
    for part in spec.split():
        resource, actions = part.split(":")
        out.update((resource, a) for a in actions.split(","))
    return frozenset(out)


# Harbor's project role policies (see docs/permissions.md, which the tests check against).
_LIMITED_GUEST = _grants(
    "project:read quota:read configuration:read repository:list,read,pull "
    "artifact:read,list artifact-addition:read tag:list accessory:list scan:read sbom:read "
    "scanner:read"
)
_GUEST = _LIMITED_GUEST | _grants("member:read,list log:list label:read,list robot:read,list")
_DEVELOPER = _GUEST | _grants(
    "repository:create,update,push artifact:create tag:create artifact-label:create,delete "
    "tag-retention:create,read,update,delete,list,operate"
)
_MAINTAINER = _DEVELOPER | _grants(
    "metadata:create,read,update,delete label:create,update,delete repository:delete "
    "artifact:delete tag:delete scan:create,stop sbom:create,stop "
    "immutable-tag:create,update,delete,list "
    "notification-policy:list"
)
_PROJECT_ADMIN = _MAINTAINER | _grants(
    "project:update,delete member:create,update,delete configuration:update "
    "robot:create,update,delete notification-policy:create,update,delete,read "
    "scanner:create preheat-policy:create,read,update,delete,list"
)

ROLE_PERMISSIONS: dict[int, frozenset[tuple[str, str]]] = {
    PROJECT_ADMIN: _PROJECT_ADMIN,
    MAINTAINER: _MAINTAINER,
    DEVELOPER: _DEVELOPER,
    GUEST: _GUEST,
    LIMITED_GUEST: _LIMITED_GUEST,
}
# What anyone, anonymous included, may do in a public project.
PUBLIC_PERMISSIONS = _grants(
    "project:read repository:list,read,pull artifact:read,list artifact-addition:read "
    "tag:list accessory:list label:read,list scan:read scanner:read"
)
# System-level resources (scope ``/system``): system administrators hold all of them.
SYSTEM_PERMISSIONS = _grants(
    "audit-log:list project:create,list user:create,read,update,delete,list "
    "user-group:create,read,update,delete,list configuration:read,update "
    "label:create,read,update,delete,list robot:create,read,update,delete,list "
    "quota:read,update,list registry:create,read,update,delete,list "
    "replication:create,read,update,delete,list garbage-collection:create,read,update,stop,list "
    "scanner:create,read,update,delete,list ldap-user:create,list catalog:read "
    "jobservice-monitor:list,stop scheduler:read "
    "purge-audit:create,read,update,stop,list system-cve-allowlist:read,update"
)
# What every signed-in user may do at system level (Harbor: create projects, read labels).
SYSTEM_USER_PERMISSIONS = _grants("project:create,list label:read,list")


def is_public(session: Session, project_id: int) -> bool:
    value = session.scalar(
        select(ProjectMetadata.value).where(
            ProjectMetadata.project_id == project_id, ProjectMetadata.name == "public"
        )
    )
    return (value or "").lower() == "true"


def roles_in(session: Session, principal: Principal, project_id: int) -> list[int]:
    """Every role the principal holds in the project, directly or through its groups."""
    if principal.kind != "user" or principal.user_id is None:
        return []
    conditions = [
        (ProjectMember.entity_type == "u") & (ProjectMember.entity_id == principal.user_id)
    ]
    if principal.group_ids:
        conditions.append(
            (ProjectMember.entity_type == "g") & ProjectMember.entity_id.in_(principal.group_ids)
        )
    rows = session.scalars(
        select(ProjectMember.role).where(ProjectMember.project_id == project_id, or_(*conditions))
    )
    return list(rows)


def best_role(roles: Iterable[int]) -> int | None:
    roles = list(roles)
    return max(roles, key=lambda r: ROLE_RANK.get(r, 0)) if roles else None


def permissions(
    session: Session, principal: Principal, project: ProjectKey
) -> frozenset[tuple[str, str]]:
    """Every (resource, action) the principal may perform in ``project``."""
    if principal.sysadmin:
        return _PROJECT_ADMIN
    granted: set[tuple[str, str]] = set()
    if principal.kind == "robot":
        granted.update(
            (res, act) for ns, res, act in principal.robot_access if ns in ("*", project.name)
        )
        if granted:  # a robot covering the project can see it (404 vs 403 stays honest)
            granted.add(("project", "read"))
        if is_public(session, project.id):  # what anonymous callers may, robots may too
            granted |= PUBLIC_PERMISSIONS
        return frozenset(granted)
    for role in roles_in(session, principal, project.id):
        granted |= ROLE_PERMISSIONS.get(role, frozenset())
    if is_public(session, project.id):
        granted |= PUBLIC_PERMISSIONS
    return frozenset(granted)


def can(
    session: Session, principal: Principal, project: ProjectKey, resource: str, action: str
) -> bool:
    return (resource, action) in permissions(session, principal, project)


def require(
    session: Session, principal: Principal, project: ProjectKey, resource: str, action: str
) -> None:
    """Raise unless allowed: 404 when the project is invisible to the caller (no leak),
    401 for anonymous callers, 403 otherwise. For a project the caller named by id, or that
    may not exist, use :func:`require_found`."""
    granted = permissions(session, principal, project)
    if (resource, action) in granted:
        return
    if ("project", "read") not in granted:
        raise NotFoundError(f"project {project.name} not found")
    if not principal.authenticated:
        raise UnauthorizedError("unauthorized")
    raise ForbiddenError("forbidden")


@dataclass(frozen=True)
class _Absent:
    """Stands in for a project that does not exist, so the permission lookups still run."""

    id: int = 0
    name: str = ""


_ABSENT = _Absent()


def require_found(
    session: Session,
    principal: Principal,
    project: P | None,
    shown: str,
    resource: str,
    action: str,
) -> P:
    """:func:`require` for a project looked up by the caller's reference ``shown``, which
    may have found nothing. A missing project and one the caller may not see give the same
    404 (same message: ``shown`` only) after the same queries (the role and visibility
    lookups run for a missing one too), so neither the body nor the time tells them apart."""
    granted = permissions(session, principal, project if project is not None else _ABSENT)
    if project is None or ("project", "read") not in granted:
        raise NotFoundError(f"project {shown} not found")
    if (resource, action) in granted:
        return project
    if not principal.authenticated:
        raise UnauthorizedError("authentication required")
    raise ForbiddenError(f"not allowed to {action} {resource} in project {project.name}")


def system_permissions(principal: Principal) -> frozenset[tuple[str, str]]:
    """Every system-level (resource, action) the principal holds (scope ``/system``)."""
    if principal.sysadmin:
        return SYSTEM_PERMISSIONS
    if principal.authenticated and principal.kind == "user":
        return SYSTEM_USER_PERMISSIONS
    return frozenset()


def require_system(principal: Principal, resource: str, action: str) -> None:
    """Raise unless the system permission table grants (``resource``, ``action``): 401 for
    anonymous callers, 403 otherwise. The same table answers ``/users/current/permissions``
    for ``/system``."""
    if (resource, action) in system_permissions(principal):
        return
    if not principal.authenticated:
        raise UnauthorizedError("unauthorized")
    raise ForbiddenError("forbidden")


def require_signed_in(principal: Principal) -> None:
    """Raise 401 unless someone is signed in (what every caller may then see is filtered)."""
    if not principal.authenticated:
        raise UnauthorizedError("unauthorized")


def visible_project_filter(principal: Principal) -> ColumnElement[bool] | None:
    """A SQL condition on ``Project`` selecting what the principal may see (None = all)."""
    if principal.sysadmin:
        return None
    public_ids = select(ProjectMetadata.project_id).where(
        ProjectMetadata.name == "public", ProjectMetadata.value == "true"
    )
    conditions = [Project.id.in_(public_ids)]
    if principal.kind == "user" and principal.user_id is not None:
        member_of = select(ProjectMember.project_id).where(
            (ProjectMember.entity_type == "u") & (ProjectMember.entity_id == principal.user_id)
        )
        conditions.append(Project.id.in_(member_of))
        if principal.group_ids:
            conditions.append(
                Project.id.in_(
                    select(ProjectMember.project_id).where(
                        (ProjectMember.entity_type == "g")
                        & ProjectMember.entity_id.in_(principal.group_ids)
                    )
                )
            )
    if principal.kind == "robot":
        names = {ns for ns, _res, _act in principal.robot_access}
        if "*" in names:
            return None
        conditions.append(Project.name.in_(names))
    return or_(*conditions)
