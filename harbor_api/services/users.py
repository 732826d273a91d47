"""Local users: listing, self-service profile and password, administration."""

from __future__ import annotations

import re

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from harbor_api.auth.passwords import hash_password, meets_policy, verify_password
from harbor_api.auth.principal import Principal
from harbor_api.auth.rbac import require_system
from harbor_api.auth.usernames import invisible_characters, normalise
from harbor_api.db.models import LoginSession, ProjectMember, User
from harbor_api.errors import (
    BadRequestError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    UnauthorizedError,
)
from harbor_api.services import audit, configurations
from harbor_api.services.context import RequestContext
from harbor_api.services.formats import iso, without_empty
from harbor_api.services.query import INT, TEXT, TIME, Term, condition, filter_by_q, order_by

BOOTSTRAP_ADMIN = "admin"
_ILLEGAL_CHARS = set(",~#$%")
_EMAIL = re.compile(r"^[^@\s<>()\[\]\\,;:\"]+@([A-Za-z0-9-]+\.)+[A-Za-z]{2,}$")
POLICY_MESSAGE = (
    "the password must be 8-128 characters long with at least one uppercase "
    "letter, one lowercase letter and one number"
)


def render(user: User, admin_role_in_auth: bool = False) -> dict:
    """Harbor's UserResp: ``sysadmin_flag`` is the stored flag; ``admin_role_in_auth`` says
    the authentication source (the LDAP admin group) makes the user a system administrator."""
    return without_empty(
        {
            "email": user.email or "",
            "realname": user.realname or "",
            "comment": user.comment or "",
            "user_id": user.id,
            "username": user.username,
            "sysadmin_flag": bool(user.sysadmin),
            "admin_role_in_auth": admin_role_in_auth,
            "creation_time": iso(user.creation_time),
            "update_time": iso(user.update_time),
        },
        "email",
        "realname",
        "comment",
    )


def _load(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(f"user {user_id} not found")
    return user


def _require_self_or_admin(principal: Principal, user_id: int, change: bool = False) -> None:
    if not principal.authenticated:
        raise UnauthorizedError("unauthorized")
    if not principal.sysadmin and principal.user_id != user_id:
        raise ForbiddenError(
            f"User with ID {user_id} can't be updated"
            if change
            else f"Not authorized to read user: {user_id}"
        )


def _validate_profile(email: str | None, realname: str | None, comment: str | None) -> None:
    if email is not None and (not email or len(email) > 255 or not _EMAIL.match(email)):
        raise BadRequestError("email can't be empty" if not email else "email with illegal format")
    if realname is not None:
        if not 1 <= len(realname) <= 255:
            raise BadRequestError("realname with illegal length")
        if _ILLEGAL_CHARS & set(realname):
            raise BadRequestError("realname contains illegal characters")
    if comment is not None and len(comment) > 30:
        raise BadRequestError("comment with illegal length")


def _validate_username(username: str | None) -> str:
    """The name as stored: NFKC-normalised (``ａｄｍｉｎ`` is ``admin``), without invisible
    characters (``admin\u200b`` must not pass for ``admin``)."""
    if not isinstance(username, str) or not username:
        raise BadRequestError("username must be 1-255 characters long")
    hidden = invisible_characters(username) + invisible_characters(normalise(username))
    if hidden:
        raise BadRequestError(
            "username must not contain invisible, control or formatting "
            f"characters (found {', '.join(dict.fromkeys(hidden))})"
        )
    username = normalise(username)
    if len(username) > 255:
        raise BadRequestError("username must be 1-255 characters long")
    if _ILLEGAL_CHARS & set(username) or any(c.isspace() or ord(c) < 32 for c in username):
        raise BadRequestError("username must not contain spaces or any of , ~ # $ %")
    return username


def list_users(ctx: RequestContext, q: str | None, sort: str | None, page) -> tuple[list, int]:
    require_system(ctx.principal, "user", "list")
    fields = {
        "username": (User.username, TEXT),
        "email": (User.email, TEXT),
        "user_id": (User.id, INT),
        "creation_time": (User.creation_time, TIME),
    }
    stmt = filter_by_q(select(User), q, fields)
    stmt = stmt.order_by(
        *order_by(
            sort,
            {
                "username": User.username,
                "email": User.email,
                "user_id": User.id,
                "creation_time": User.creation_time,
                "update_time": User.update_time,
            },
            [User.id],
        )
    )
    with ctx.db.read() as s:
        total = s.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
        users = s.scalars(stmt.offset(page.offset).limit(page.page_size)).all()
        return [render(u) for u in users], total or 0


def create_user(ctx: RequestContext, body: dict) -> int:
    principal = ctx.principal
    cfg = configurations.effective(ctx.db)
    if not principal.sysadmin:
        if not cfg["self_registration"]:
            if not principal.authenticated:
                raise UnauthorizedError("unauthorized")
            raise ForbiddenError("forbidden")
    if cfg["auth_mode"] != "db_auth":
        raise ForbiddenError(
            f"creating local user is not allowed under auth mode: {cfg['auth_mode']}"
        )
    username = _validate_username(body.get("username"))
    email = body.get("email") or ""
    _validate_profile(email, body.get("realname") or username, body.get("comment"))
    password = body.get("password") or ""
    if not meets_policy(password):
        raise BadRequestError(POLICY_MESSAGE)
    password_hash = hash_password(password)
    try:
        with ctx.db.transaction() as s:
            _check_unique(s, username=username, email=email, both=True)
            user = User(
                username=username,
                email=email,
                realname=body.get("realname") or "",
                comment=body.get("comment") or "",
                password_hash=password_hash,
            )
            s.add(user)
            s.flush()
            audit.record(s, principal, "create", "user", username)
            return user.id
    except IntegrityError:
        raise ConflictError(f"user {username} or email {email} already exists") from None


def _check_unique(
    s: Session,
    username: str | None = None,
    email: str | None = None,
    exclude_id: int | None = None,
    both: bool = False,
) -> None:
    """A taken username or e-mail: 409 in Harbor's words (a new user names both)."""
    taken = (
        f"user {username} or email {email} already exists"
        if both
        else f"email {email} already exists"
    )
    if username is not None and s.scalar(
        select(User.id).where(
            func.lower(User.username) == username.lower(), User.id != (exclude_id or -1)
        )
    ):
        raise ConflictError(taken)
    if email and s.scalar(
        select(User.id).where(
            func.lower(User.email) == email.lower(), User.id != (exclude_id or -1)
        )
    ):
        raise ConflictError(taken)


def search(ctx: RequestContext, username: str, page) -> tuple[list, int]:
    if not ctx.principal.authenticated:
        raise UnauthorizedError("unauthorized")
    stmt = select(User.id, User.username)
    if username:
        stmt = stmt.where(condition(User.username, Term("username", "fuzzy", username)))
    with ctx.db.read() as s:
        total = s.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = s.execute(
            stmt.order_by(User.username).offset(page.offset).limit(page.page_size)
        ).all()
        return [{"user_id": r.id, "username": r.username} for r in rows], total or 0


def current(ctx: RequestContext) -> dict:
    principal = ctx.principal
    if not principal.authenticated:
        raise UnauthorizedError("unauthorized")
    if principal.kind != "user" or principal.user_id is None:
        raise ForbiddenError("only users have a profile")
    with ctx.db.read() as s:
        user = _load(s, principal.user_id)
        return render(user, admin_role_in_auth=principal.sysadmin and not user.sysadmin)


def get(ctx: RequestContext, user_id: int) -> dict:
    _require_self_or_admin(ctx.principal, user_id)
    with ctx.db.read() as s:
        return render(_load(s, user_id))


def update_profile(ctx: RequestContext, user_id: int, body: dict) -> None:
    _require_self_or_admin(ctx.principal, user_id, change=True)
    email, realname, comment = body.get("email"), body.get("realname"), body.get("comment")
    _validate_profile(email, realname, comment)
    try:
        with ctx.db.transaction() as s:
            user = _load(s, user_id)
            _require_managed_here(ctx, user, "profile")
            _check_unique(s, email=email, exclude_id=user_id)
            if email is not None:
                user.email = email
            if realname is not None:
                user.realname = realname
            if comment is not None:
                user.comment = comment
            audit.record(s, ctx.principal, "update", "user", user.username)
    except IntegrityError:
        raise ConflictError(f"email {email} already exists") from None


def delete_user(ctx: RequestContext, user_id: int) -> None:
    require_system(ctx.principal, "user", "delete")
    if ctx.principal.user_id == user_id:
        raise ForbiddenError(f"User with ID {user_id} cannot be deleted")
    with ctx.db.transaction() as s:
        user = _load(s, user_id)
        if user.username == BOOTSTRAP_ADMIN:
            raise ForbiddenError(f"User with ID {user_id} cannot be deleted")
        s.execute(
            delete(ProjectMember).where(
                ProjectMember.entity_type == "u", ProjectMember.entity_id == user_id
            )
        )
        audit.record(s, ctx.principal, "delete", "user", user.username)
        s.delete(user)


def _require_managed_here(ctx: RequestContext, user: User, what: str) -> None:
    """Harbor: users are changed only in db_auth mode (or the local admin, in any mode); a
    directory user's password and profile belong to the directory."""
    if user.auth_source == "ldap" or (
        configurations.effective(ctx.db)["auth_mode"] != "db_auth"
        and user.username != BOOTSTRAP_ADMIN
    ):
        raise ForbiddenError(f"User with ID {user.id} can't be updated")


def change_password(ctx: RequestContext, user_id: int, old: str | None, new: str | None) -> None:
    principal = ctx.principal
    _require_self_or_admin(principal, user_id, change=True)
    need_old = not principal.sysadmin or principal.user_id == user_id
    new = new or ""
    with ctx.db.read() as s:
        user = _load(s, user_id)
        _require_managed_here(ctx, user, "password")
        current_hash = user.password_hash
    if need_old:
        if not old:
            raise BadRequestError("old_password is required")
        if not verify_password(old, current_hash):
            raise ForbiddenError("Current password is incorrect")
    if not meets_policy(new):
        raise BadRequestError(POLICY_MESSAGE)
    if current_hash and verify_password(new, current_hash):
        raise BadRequestError("New password is identical to old password")
    new_hash = hash_password(new)
    with ctx.db.transaction() as s:
        user = _load(s, user_id)
        user.password_hash = new_hash
        # a new password ends the user's other browser sessions (e.g. after a compromise)
        s.execute(
            delete(LoginSession).where(
                LoginSession.user_id == user_id, LoginSession.id != (principal.session_id or "")
            )
        )
        audit.record(s, principal, "update", "user", f"{user.username} (password)")
        username = user.username
    # a new password also lifts a login lock (the way out for a locked-out account)
    throttle = getattr(ctx.app.authenticator, "throttle", None)
    if throttle is not None:
        throttle.clear(username)


def set_sysadmin(ctx: RequestContext, user_id: int, flag: bool) -> None:
    require_system(ctx.principal, "user", "update")
    if ctx.principal.user_id == user_id:
        raise ForbiddenError("you cannot change your own system administrator role")
    with ctx.db.transaction() as s:
        user = _load(s, user_id)
        if user.username == BOOTSTRAP_ADMIN:
            raise ForbiddenError("the admin user's role cannot be changed")
        user.sysadmin = bool(flag)
        audit.record(s, ctx.principal, "update", "user", f"{user.username} (sysadmin)")
