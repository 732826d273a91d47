"""What a registry token is bound to: its account's id and a seal of the account's
credential state, so that changing the credentials (or the account) ends old tokens.

Issuing (:mod:`harbor_api.services.tokens`) and verifying (:mod:`harbor_api.auth.bearer`)
share these rules and these prebuilt statements.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Protocol

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from harbor_api.auth.principal import Principal
from harbor_api.auth.tokens import Account
from harbor_api.db.models import Project, Robot, User
from harbor_api.errors import UnauthorizedError

# Core statements by primary key: they run on every /v2 request with a token
USER_ROW = select(User.username, User.password_hash, User.sysadmin).where(
    User.id == bindparam("id")
)
ROBOT_ROW = select(
    Robot.name, Robot.secret_hash, Robot.permissions, Robot.expires_at, Robot.disabled
).where(Robot.id == bindparam("id"))
PROJECT_CREATED = select(Project.name, Project.creation_time, Project.id).where(
    Project.name == bindparam("name")
)
USER_AND_PROJECT_CREATED = select(
    USER_ROW.subquery("u"),
    select(Project.creation_time)
    .where(Project.name == bindparam("project"))
    .scalar_subquery()
    .label("created"),
    select(Project.id)
    .where(Project.name == bindparam("project"))
    .scalar_subquery()
    .label("project_id"),
)


class UserCredentials(Protocol):
    @property
    def password_hash(self) -> str | None: ...

    @property
    def sysadmin(self) -> bool: ...


class RobotCredentials(Protocol):
    @property
    def secret_hash(self) -> str: ...

    @property
    def permissions(self) -> str | None: ...

    @property
    def expires_at(self) -> int: ...


def _seal(state_key: bytes, *parts: object) -> str:
    mac = hmac.new(state_key, "\0".join(str(p) for p in parts).encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:16]).decode().rstrip("=")


def user_state(state_key: bytes, row: UserCredentials) -> str:
    """What a user's token is bound to besides the id: the stored password hash (salted:
    a new password, or a new account of the same name, seals differently) and the system
    administrator flag (the rights the token was granted with)."""
    return _seal(state_key, "user", row.password_hash or "", bool(row.sysadmin))


def robot_state(state_key: bytes, row: RobotCredentials) -> str:
    """A robot's: its secret hash (a refresh ends old tokens), permissions and expiry; a
    description change or a disable/enable round trip leaves its tokens alone."""
    return _seal(state_key, "robot", row.secret_hash, row.permissions or "[]", int(row.expires_at))


def account_of(session: Session, state_key: bytes, principal: Principal) -> Account | None:
    """The binding for a token issued to ``principal`` now; None when it is anonymous."""
    if principal.kind == "user" and principal.user_id is not None:
        row = session.connection().execute(USER_ROW, {"id": principal.user_id}).first()
        if row is not None and row.username == principal.username:
            return Account("user", principal.user_id, user_state(state_key, row))
    elif principal.kind == "robot" and principal.robot_id is not None:
        robot = session.connection().execute(ROBOT_ROW, {"id": principal.robot_id}).first()
        if robot is not None:
            return Account("robot", principal.robot_id, robot_state(state_key, robot))
    elif not principal.authenticated:
        return None
    raise UnauthorizedError("the account no longer exists")


def project_of(repository: str) -> str | None:
    """The project part of ``<project>/<path>``; None for a name without a project."""
    project, sep, rest = repository.partition("/")
    return project if sep and rest else None
