"""docs/permissions.md is the source of truth: the code's role matrix must match it."""

from harbor_api.auth import rbac
from tests.support.permissions_doc import matrix, operations

ROLE_IDS = {
    "limitedGuest": rbac.LIMITED_GUEST,
    "guest": rbac.GUEST,
    "developer": rbac.DEVELOPER,
    "maintainer": rbac.MAINTAINER,
    "projectAdmin": rbac.PROJECT_ADMIN,
}


def test_role_matrix_matches_the_document():
    documented = matrix()
    for role, role_id in ROLE_IDS.items():
        expected = {perm for perm, roles in documented.items() if role in roles}
        assert set(rbac.ROLE_PERMISSIONS[role_id]) == expected, role
    assert set(rbac.PUBLIC_PERMISSIONS) == {p for p, r in documented.items() if "public" in r}


def test_roles_are_nested_like_harbor():
    order = [rbac.LIMITED_GUEST, rbac.GUEST, rbac.DEVELOPER, rbac.MAINTAINER, rbac.PROJECT_ADMIN]
    for lower, higher in zip(order, order[1:], strict=False):
        assert rbac.ROLE_PERMISSIONS[lower] < rbac.ROLE_PERMISSIONS[higher]


def test_operations_refer_to_documented_permissions():
    documented = matrix()
    ops = operations()
    assert set(ops) == {
        "pull",
        "push",
        "delete",
        "tag",
        "member management",
        "robot management",
        "project update",
        "project delete",
        "repository read",
        "repository list",
        "artifact read",
        "member list",
        "log list",
    }
    assert all(perm in documented for perm in ops.values())
