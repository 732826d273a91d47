"""System-admin LDAP tools: test settings, search users and groups, import users."""

from __future__ import annotations

from typing import Any

from harbor_api.auth.ldap import Directory, DirectoryError, LdapSettings
from harbor_api.auth.ldap_login import name_problem, sync_user
from harbor_api.auth.rbac import require_system
from harbor_api.errors import BadRequestError
from harbor_api.services import audit, configurations
from harbor_api.services.context import RequestContext

_PING_KEYS = (
    "ldap_url",
    "ldap_search_dn",
    "ldap_search_password",
    "ldap_base_dn",
    "ldap_filter",
    "ldap_uid",
    "ldap_scope",
    "ldap_timeout",
    "ldap_verify_cert",
)


def _saved_directory(ctx: RequestContext) -> Directory:
    cfg = configurations.effective(ctx.db)
    if not cfg.get("ldap_url"):
        raise BadRequestError("LDAP is not configured (ldap_url is empty)")
    try:
        return Directory(LdapSettings.from_config(cfg))
    except DirectoryError as exc:
        raise BadRequestError(exc.message) from None


def ping(ctx: RequestContext, body: dict[str, Any] | None) -> dict:
    """Test the saved settings overlaid with those in ``body``; the search password comes
    from the saved configuration when the body leaves it out."""
    require_system(ctx.principal, "configuration", "update")
    cfg = configurations.effective(ctx.db)
    body = dict(body or {})
    if "ldap_connection_timeout" in body and "ldap_timeout" not in body:
        body["ldap_timeout"] = body["ldap_connection_timeout"]
    cfg.update({k: body[k] for k in _PING_KEYS if body.get(k) is not None})
    try:
        Directory(LdapSettings.from_config(cfg)).ping()
    except DirectoryError as exc:
        return {"success": False, "message": exc.message}
    return {"success": True, "message": "connected, service account bound, base DN found"}


def _directory_call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except DirectoryError as exc:
        raise BadRequestError(f"LDAP search failed: {exc.message}") from None


def search_users(ctx: RequestContext, username: str | None) -> list[dict]:
    require_system(ctx.principal, "ldap-user", "list")
    directory = _saved_directory(ctx)
    found = _directory_call(directory.search_users, username or None)
    return [{"username": u.username, "realname": u.realname, "email": u.email} for u in found]


def search_groups(ctx: RequestContext, groupname: str | None, groupdn: str | None) -> list[dict]:
    require_system(ctx.principal, "user-group", "list")
    directory = _saved_directory(ctx)
    found = _directory_call(directory.search_groups, name=groupname or None, dn=groupdn or None)
    return [{"group_name": g.name, "group_type": 1, "ldap_group_dn": g.dn} for g in found]


def import_users(ctx: RequestContext, uids: list[str]) -> list[dict]:
    """Create local users for the directory users; returns those that failed."""
    require_system(ctx.principal, "ldap-user", "create")
    directory = _saved_directory(ctx)
    failed: list[dict] = []
    for uid in dict.fromkeys(u for u in uids if u):  # unique, in order
        matches = _directory_call(directory.search_users, uid)
        if len(matches) != 1:
            failed.append(
                {
                    "uid": uid,
                    "error": "not found in the directory"
                    if not matches
                    else "more than one directory entry matches",
                }
            )
            continue
        problem = name_problem(matches[0])
        if problem is not None:
            failed.append({"uid": uid, "error": problem})
            continue
        with ctx.db.transaction() as s:
            user = sync_user(s, matches[0])
            if user is None:
                failed.append({"uid": uid, "error": "a local user with this name exists"})
                continue
            audit.record(s, ctx.principal, "create", "user", user.username)
    return failed
