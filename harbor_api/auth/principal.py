"""Who is calling: a user, a robot account, or nobody."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
    robot_access: tuple[Any, ...] = field(default_factory=tuple)

    @property
    def authenticated(self) -> bool:
        return self.kind != "anonymous"


ANONYMOUS = Principal(kind="anonymous")
