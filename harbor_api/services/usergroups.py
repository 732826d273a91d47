"""User groups: LDAP groups (``group_type`` 1) known by their DN, usable as project members.

In ``ldap_auth`` mode a new group's DN must exist in the directory (its name defaults to the
directory's group name). DNs compare case-insensitively.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from harbor_api.auth.ldap import Directory, DirectoryError, canonical_dn
from harbor_api.auth.ldap_login import LDAP_GROUP, ldap_mode
from harbor_api.auth.rbac import require_system
from harbor_api.db.models import ProjectMember, UserGroup
from harbor_api.errors import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    UnauthorizedError,
)
from harbor_api.services import audit
from harbor_api.services.context import RequestContext
from harbor_api.services.paging import Page
from harbor_api.services.query import contains


def render(group: UserGroup) -> dict:
    return {
        "id": group.id,
        "group_name": group.group_name,
        "group_type": group.group_type,
        "ldap_group_dn": group.ldap_group_dn or "",
    }


_SQL_INT_MAX = 2**63 - 1


def _load(s: Session, group_id: int) -> UserGroup:
    group = s.get(UserGroup, group_id) if 0 < group_id <= _SQL_INT_MAX else None
    if group is None:
        raise NotFoundError(f"user group {group_id} not found")
    return group


def list_groups(
    ctx: RequestContext, page: Page, ldap_group_dn: str | None = None, group_name: str | None = None
) -> tuple[list[dict], int]:
    require_system(ctx.principal, "user-group", "list")
    stmt = select(UserGroup)
    if ldap_group_dn:
        stmt = stmt.where(func.lower(UserGroup.ldap_group_dn) == canonical_dn(ldap_group_dn))
    if group_name:
        stmt = stmt.where(contains(UserGroup.group_name, group_name))
    with ctx.db.read() as s:
        total = s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        if page.offset >= total:
            return [], total
        rows = s.scalars(stmt.order_by(UserGroup.id).offset(page.offset).limit(page.page_size))
        return [render(g) for g in rows], total


def search(ctx: RequestContext, groupname: str, page: Page) -> tuple[list[dict], int]:
    if not ctx.principal.authenticated:
        raise UnauthorizedError("unauthorized")
    stmt = select(UserGroup).where(contains(UserGroup.group_name, groupname or ""))
    with ctx.db.read() as s:
        total = s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        if page.offset >= total:
            return [], total
        rows = s.scalars(
            stmt.order_by(UserGroup.group_name, UserGroup.id)
            .offset(page.offset)
            .limit(page.page_size)
        )
        return [
            {"id": g.id, "group_name": g.group_name, "group_type": g.group_type} for g in rows
        ], total


def get(ctx: RequestContext, group_id: int) -> dict:
    require_system(ctx.principal, "user-group", "read")
    with ctx.db.read() as s:
        return render(_load(s, group_id))


def _first_rdn_value(dn: str) -> str:
    """``cn=developers,ou=groups,...`` → ``developers``."""
    return dn.split(",", 1)[0].split("=", 1)[-1].strip() or dn


def resolve_ldap_group(ctx: RequestContext, dn: str, name: str = "") -> tuple[str, str]:
    """(DN as the directory spells it, group name); 404 when ldap_auth is on and the
    directory has no such group. Without ldap_auth the DN is only checked for syntax."""
    dn = (dn or "").strip()
    if not dn or "=" not in dn:
        raise BadRequestError("ldap_group_dn must be a distinguished name (cn=...,dc=...)")
    settings = ldap_mode(ctx.db)
    if settings is None:
        dn = canonical_dn(dn, keep_case=True)
        return dn, name or _first_rdn_value(dn)
    try:
        found = Directory(settings).search_groups(dn=dn)
    except DirectoryError as exc:
        raise BadRequestError(f"cannot verify the group in the directory: {exc.message}") from None
    if not found:
        raise NotFoundError(f"LDAP group {dn} not found in the directory")
    return found[0].dn, name or found[0].name


def create(ctx: RequestContext, body: dict) -> int:
    require_system(ctx.principal, "user-group", "create")
    group_type = body.get("group_type", LDAP_GROUP)
    if group_type != LDAP_GROUP:
        raise BadRequestError("only LDAP groups (group_type 1) are supported")
    name = (body.get("group_name") or "").strip()
    if len(name) > 255:
        raise BadRequestError("group_name must be at most 255 characters")
    dn, name = resolve_ldap_group(ctx, body.get("ldap_group_dn") or "", name)
    with ctx.db.transaction() as s:
        return _insert(s, ctx, dn, name).id


def _insert(s: Session, ctx: RequestContext, dn: str, name: str) -> UserGroup:
    if (
        s.scalar(
            select(UserGroup.id).where(
                UserGroup.group_type == LDAP_GROUP,
                func.lower(UserGroup.ldap_group_dn) == canonical_dn(dn),
            )
        )
        is not None
    ):
        raise ConflictError(f"a user group with DN {dn} already exists")
    group = UserGroup(group_name=name[:255], group_type=LDAP_GROUP, ldap_group_dn=dn)
    s.add(group)
    s.flush()
    audit.record(s, ctx.principal, "create", "user_group", name)
    return group


def update(ctx: RequestContext, group_id: int, body: dict) -> None:
    require_system(ctx.principal, "user-group", "update")
    name = (body.get("group_name") or "").strip()
    if not name or len(name) > 255:
        raise BadRequestError("group_name must be 1-255 characters")
    with ctx.db.transaction() as s:
        group = _load(s, group_id)
        if "group_type" in body and body["group_type"] != group.group_type:
            raise BadRequestError("group_type cannot change")
        if body.get("ldap_group_dn") and canonical_dn(body["ldap_group_dn"]) != canonical_dn(
            group.ldap_group_dn
        ):
            raise BadRequestError("ldap_group_dn cannot change")
        group.group_name = name
        audit.record(s, ctx.principal, "update", "user_group", name)


def delete_group(ctx: RequestContext, group_id: int) -> None:
    require_system(ctx.principal, "user-group", "delete")
    with ctx.db.transaction() as s:
        group = _load(s, group_id)
        s.execute(
            delete(ProjectMember).where(
                ProjectMember.entity_type == "g", ProjectMember.entity_id == group.id
            )
        )
        audit.record(s, ctx.principal, "delete", "user_group", group.group_name)
        s.delete(group)


def member_group_by_dn(s: Session, ctx: RequestContext, dn: str) -> UserGroup | None:
    """The LDAP group for a project member given by DN (case-insensitive). As Harbor does,
    a group not known yet is created when ``ldap_auth`` is on and the directory has it.
    Call after the caller's right to add members has been checked."""
    found = s.scalar(
        select(UserGroup).where(
            UserGroup.group_type == LDAP_GROUP,
            func.lower(UserGroup.ldap_group_dn) == canonical_dn(dn or ""),
        )
    )
    if found is not None or ldap_mode(ctx.db) is None:
        return found
    directory_dn, name = resolve_ldap_group(ctx, dn)
    return _insert(s, ctx, directory_dn, name)
