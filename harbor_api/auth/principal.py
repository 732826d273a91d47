"""Who is calling: a user, a robot account, or nobody."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Principal:
    kind: str  # "anonymous" | "user" | "robot"
    user_id: int | None = None
    username: str = ""
    sysadmin: bool = False
    via: str = ""  # "basic" | "session" | "bearer"
    session_id: str | None = None
    csrf_token: str | None = None
    robot_id: int | None = None
    # (project name or "*", resource, action) granted to a robot account
    robot_access: tuple[tuple[str, str, str], ...] = field(default_factory=tuple)
    # ids of the user groups (e.g. LDAP groups) the user belongs to, resolved at login
    group_ids: tuple[int, ...] = field(default_factory=tuple)
    # for Bearer tokens: the token's `access` claim as (type, name, actions) entries; the
    # /v2 edge grants exactly these and nothing else
    token_access: tuple[tuple[str, str, tuple[str, ...]], ...] | None = None

    @property
    def authenticated(self) -> bool:
        return self.kind != "anonymous"


ANONYMOUS = Principal(kind="anonymous")
