"""``rbac.require_system`` answers from the system permission table, the same table that
answers ``/users/current/permissions`` for ``/system``; handlers authorise nothing."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from harbor_api.auth import rbac
from harbor_api.auth.principal import ANONYMOUS, Principal
from harbor_api.errors import ForbiddenError, UnauthorizedError

ADMIN = Principal(kind="user", user_id=1, username="admin", sysadmin=True)
USER = Principal(kind="user", user_id=2, username="alice")
ROBOT = Principal(
    kind="robot", robot_id=3, username="robot$ci", robot_access=(("*", "repository", "pull"),)
)
EVERY = sorted(rbac.SYSTEM_PERMISSIONS | rbac.SYSTEM_USER_PERMISSIONS | {("user", "nothing")})
HANDLERS = Path(__file__).resolve().parents[2] / "handlers"


def _allowed(principal: Principal, resource: str, action: str) -> bool:
    try:
        rbac.require_system(principal, resource, action)
    except ForbiddenError:
        return False
    return True


@pytest.mark.parametrize(("resource", "action"), EVERY)
def test_require_system_follows_the_table(resource, action):
    assert _allowed(ADMIN, resource, action) == ((resource, action) in rbac.SYSTEM_PERMISSIONS)
    assert _allowed(USER, resource, action) == ((resource, action) in rbac.SYSTEM_USER_PERMISSIONS)
    assert not _allowed(ROBOT, resource, action)
    with pytest.raises(UnauthorizedError):
        rbac.require_system(ANONYMOUS, resource, action)


def test_a_signed_in_user_holds_what_the_permissions_endpoint_lists():
    """``project:create`` is listed for every signed-in user under ``/system``: the check
    grants it too (it used to demand a system administrator whatever it was asked)."""
    assert ("project", "create") in rbac.system_permissions(USER)
    rbac.require_system(USER, "project", "create")
    with pytest.raises(ForbiddenError):
        rbac.require_system(USER, "user", "list")


def test_handlers_hold_no_authorisation():
    """Handlers parse, call one service and shape the answer: nothing from ``auth`` and no
    ``require*`` calls (the services authorise)."""
    offenders = []
    for path in sorted(HANDLERS.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "harbor_api.auth"
            ):
                offenders.append(f"{path.name}: imports {node.module}")
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", "")
                if name.startswith("require"):
                    offenders.append(f"{path.name}:{node.lineno}: calls {name}")
    assert offenders == []
