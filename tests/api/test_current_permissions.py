"""``GET /users/current/permissions``: answered by the same rules that enforce them."""

from __future__ import annotations

import pytest

from harbor_api.auth import rbac

pytestmark = pytest.mark.api


def project_id(admin_client, name: str) -> int:
    return admin_client.get(f"/projects/{name}", headers={"X-Is-Resource-Name": "true"}).json()[
        "project_id"
    ]


def as_set(entries) -> set[tuple[str, str]]:
    return {(e["resource"], e["action"]) for e in entries}


def test_project_scope_per_role(admin_client, anon_client, project, new_user):
    pid = project_id(admin_client, project)
    _, dev, _, dev_client = new_user()
    _, _, _, outsider = new_user()
    assert (
        admin_client.post(
            f"/projects/{project}/members", json={"role_id": 2, "member_user": {"username": dev}}
        ).status_code
        == 201
    )
    r = dev_client.get(
        "/users/current/permissions", params={"scope": f"/project/{pid}", "relative": "true"}
    )
    assert r.status_code == 200
    assert as_set(r.json()) == set(rbac.ROLE_PERMISSIONS[rbac.DEVELOPER])
    absolute = dev_client.get(
        "/users/current/permissions", params={"scope": f"/project/{pid}"}
    ).json()
    assert {"resource": f"/project/{pid}/repository", "action": "push"} in absolute
    assert ("project", "delete") not in as_set(r.json())
    admin = admin_client.get(
        "/users/current/permissions", params={"scope": f"/project/{pid}", "relative": "true"}
    ).json()
    assert ("project", "delete") in as_set(admin)
    # invisible project: nothing, for outsiders and anonymous callers alike
    for client in (outsider, anon_client):
        r = client.get("/users/current/permissions", params={"scope": f"/project/{pid}"})
        assert r.status_code == 200 and r.json() == []


def test_public_project_and_system_scope(admin_client, anon_client, new_user):
    library = project_id(admin_client, "library")
    anon = anon_client.get(
        "/users/current/permissions", params={"scope": f"/project/{library}", "relative": "true"}
    )
    assert as_set(anon.json()) == set(rbac.PUBLIC_PERMISSIONS)
    system = admin_client.get(
        "/users/current/permissions", params={"scope": "/system", "relative": "true"}
    ).json()
    assert ("user", "create") in as_set(system) and ("project", "create") in as_set(system)
    _, _, _, user = new_user()
    mine = as_set(user.get("/users/current/permissions", params={"scope": "/system"}).json())
    assert ("/system/user", "create") not in mine and ("/system/project", "create") in mine
    assert anon_client.get("/users/current/permissions", params={"scope": "/system"}).json() == []
    for bad in ("/nowhere", "/project/abc", f"/project/{2**63}"):
        assert (
            admin_client.get("/users/current/permissions", params={"scope": bad}).status_code == 400
        )


@pytest.mark.parametrize("params", [{}, {"scope": ""}, {"relative": "true"}])
def test_no_scope_is_an_empty_list(admin_client, anon_client, new_user, params):
    """As Harbor: without a scope there is nothing to list (200 and [], not a 400)."""
    _, _, _, user = new_user()
    for client in (admin_client, user, anon_client):
        r = client.get("/users/current/permissions", params=params)
        assert r.status_code == 200, r.text
        assert r.json() == []
