"""Robot credentials: which robots may sign in, with what secret, holding which access.

Used by Basic logins and by Bearer tokens (:mod:`harbor_api.auth.authenticate`,
:mod:`harbor_api.auth.bearer`); managing robots is :mod:`harbor_api.services.robots`.
"""

from __future__ import annotations

import json
import time
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from harbor_api.auth.passwords import verify_password
from harbor_api.db.models import Robot


class RobotState(Protocol):
    """A robot row or entity: what decides whether it is active."""

    @property
    def disabled(self) -> bool: ...

    @property
    def expires_at(self) -> int: ...


def is_active(robot: RobotState, now: float | None = None) -> bool:
    now = time.time() if now is None else now
    return not robot.disabled and (robot.expires_at == -1 or robot.expires_at > now)


def active_robot(session: Session, stored_name: str) -> Robot | None:
    robot = session.scalar(select(Robot).where(Robot.name == stored_name))
    return robot if robot is not None and is_active(robot) else None


def access_entries(robot: Robot) -> tuple[tuple[str, str, str], ...]:
    """(namespace, resource, action) for :class:`Principal.robot_access`."""
    out = []
    for perm in json.loads(robot.permissions or "[]"):
        for item in perm.get("access", []):
            if item.get("effect", "allow") == "allow":
                out.append((perm["namespace"], item["resource"], item["action"]))
    return tuple(out)


def check_secret(robot: Robot, secret: str) -> bool:
    return verify_password(secret, robot.secret_hash)
