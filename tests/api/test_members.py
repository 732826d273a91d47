"""Project members: adding users by id or name, roles, who may manage them."""

from urllib.parse import urlencode

import pytest

from tests.support.clients import ApiClient

pytestmark = pytest.mark.api

MEMBER_FIELDS = {
    "id",
    "project_id",
    "entity_name",
    "role_name",
    "role_id",
    "entity_id",
    "entity_type",
}


def _error(response, status, code):
    assert response.status_code == status, response.text
    assert response.json()["errors"][0]["code"] == code


def _add(client, project, role_id, **user):
    return client.post(
        f"/projects/{project}/members", json={"role_id": role_id, "member_user": user}
    )


def test_add_by_id_and_by_username(admin_client, new_user, project):
    user_id, name, _, _ = new_user()
    other_id, other_name, _, _ = new_user()
    r = _add(admin_client, project, 2, user_id=user_id)
    assert r.status_code == 201, r.text
    assert r.headers["Location"].startswith(f"/api/v2.0/projects/{project}/members/")
    member = admin_client.get(r.headers["Location"]).json()
    assert set(member) == MEMBER_FIELDS
    assert member["entity_name"] == name and member["entity_id"] == user_id
    assert member["entity_type"] == "u"
    assert member["role_id"] == 2 and member["role_name"] == "developer"
    r = _add(admin_client, project, 5, username=other_name)
    assert r.status_code == 201
    assert admin_client.get(r.headers["Location"]).json()["role_name"] == "limitedGuest"
    _error(_add(admin_client, project, 3, user_id=user_id), 409, "CONFLICT")
    _error(_add(admin_client, project, 3, username=other_name), 409, "CONFLICT")


@pytest.mark.parametrize(
    "body",
    [
        {"role_id": 9, "member_user": {"user_id": 1}},
        {"role_id": 2},
        {"role_id": 2, "member_user": {}},
        {"member_user": {"user_id": 1}},
        {"role_id": "2", "member_user": {"user_id": 1}},
    ],
)
def test_invalid_member_requests(admin_client, project, body):
    _error(admin_client.post(f"/projects/{project}/members", json=body), 400, "BAD_REQUEST")


def test_unknown_user_or_group_is_404(admin_client, project):
    _error(_add(admin_client, project, 2, user_id=987654), 404, "NOT_FOUND")
    _error(_add(admin_client, project, 2, username="nobody-here"), 404, "NOT_FOUND")
    r = admin_client.post(
        f"/projects/{project}/members", json={"role_id": 2, "member_group": {"id": 987654}}
    )
    _error(r, 404, "NOT_FOUND")


def test_list_with_filter_and_paging(admin_client, new_user, project):
    names = []
    for _ in range(3):
        user_id, name, _, _ = new_user()
        _add(admin_client, project, 3, user_id=user_id)
        names.append(name)
    r = admin_client.get(f"/projects/{project}/members", params={"page": 1, "page_size": 2})
    assert r.headers["X-Total-Count"] == "4"
    assert len(r.json()) == 2 and r.json()[0]["entity_name"] == "admin"
    nxt = f"/api/v2.0/projects/{project}/members?" + urlencode([("page", "2"), ("page_size", "2")])
    assert r.headers["Link"] == f'<{nxt}>; rel="next"'
    found = admin_client.get(
        f"/projects/{project}/members", params={"entityname": names[1][-6:]}
    ).json()
    assert [m["entity_name"] for m in found] == [names[1]]


def test_update_and_delete(admin_client, new_user, project):
    user_id, _, _, client = new_user()
    location = _add(admin_client, project, 3, user_id=user_id).headers["Location"]
    mid = location.rsplit("/", 1)[1]
    assert client.get(f"/projects/{project}").json()["current_user_role_id"] == 3
    assert admin_client.put(location, json={"role_id": 4}).status_code == 200
    assert admin_client.get(location).json()["role_name"] == "maintainer"
    assert client.get(f"/projects/{project}").json()["current_user_role_id"] == 4
    _error(admin_client.put(location, json={"role_id": 0}), 400, "BAD_REQUEST")
    _error(
        admin_client.put(f"/projects/{project}/members/987654", json={"role_id": 2}),
        404,
        "NOT_FOUND",
    )
    assert admin_client.delete(location).status_code == 200
    _error(admin_client.get(location), 404, "NOT_FOUND")
    _error(admin_client.delete(f"/projects/{project}/members/{mid}"), 404, "NOT_FOUND")
    _error(client.get(f"/projects/{project}"), 404, "NOT_FOUND")


def test_member_of_other_project_is_404(admin_client, project):
    members = admin_client.get("/projects/library/members").json()
    library_member = members[0]["id"]
    _error(admin_client.get(f"/projects/{project}/members/{library_member}"), 404, "NOT_FOUND")


def test_who_may_manage_members(admin_client, new_user, project):
    guest_id, _, _, guest = new_user()
    dev_id, _, _, developer = new_user()
    pa_id, _, _, project_admin = new_user()
    outsider_id, _, _, outsider = new_user()
    _add(admin_client, project, 3, user_id=guest_id)
    _add(admin_client, project, 2, user_id=dev_id)
    _add(admin_client, project, 1, user_id=pa_id)
    for client in (guest, developer, project_admin):
        assert client.get(f"/projects/{project}/members").status_code == 200
    for client in (guest, developer):
        _error(_add(client, project, 2, user_id=outsider_id), 403, "FORBIDDEN")
    _error(outsider.get(f"/projects/{project}/members"), 404, "NOT_FOUND")
    _error(_add(outsider, project, 2, user_id=outsider_id), 404, "NOT_FOUND")
    r = _add(project_admin, project, 2, user_id=outsider_id)
    assert r.status_code == 201
    assert outsider.get(f"/projects/{project}").status_code == 200
    _error(developer.put(r.headers["Location"], json={"role_id": 1}), 403, "FORBIDDEN")
    _error(developer.delete(r.headers["Location"]), 403, "FORBIDDEN")
    assert project_admin.delete(r.headers["Location"]).status_code == 200


def test_member_changes_are_audited(admin_client, new_user, project, server):
    from sqlalchemy import select

    from harbor_api.db.models import AuditLog
    from harbor_api.db.session import Database

    user_id, name, _, _ = new_user()
    location = _add(admin_client, project, 3, user_id=user_id).headers["Location"]
    admin_client.put(location, json={"role_id": 2})
    admin_client.delete(location)
    db = Database(server.database_url or f"sqlite:///{server.data_dir / 'harbor.db'}")
    try:
        with db.read() as s:
            rows = s.execute(
                select(AuditLog.operation, AuditLog.resource)
                .where(AuditLog.resource_type == "member", AuditLog.resource.like(f"{project}:%"))
                .order_by(AuditLog.id)
            ).all()
    finally:
        db.dispose()
    assert [op for op, _ in rows] == ["create", "update", "delete"]
    assert name in rows[0][1]


def test_group_member_by_id(admin_client, project, server):
    from sqlalchemy import delete

    from harbor_api.db.models import UserGroup
    from harbor_api.db.session import Database

    db = Database(server.database_url or f"sqlite:///{server.data_dir / 'harbor.db'}")
    try:
        with db.transaction() as s:
            group = UserGroup(
                group_name=f"devs-{project}",
                group_type=1,
                ldap_group_dn=f"cn=devs-{project},dc=example,dc=com",
            )
            s.add(group)
            s.flush()
            group_id = group.id
        r = admin_client.post(
            f"/projects/{project}/members", json={"role_id": 2, "member_group": {"id": group_id}}
        )
        assert r.status_code == 201, r.text
        member = admin_client.get(r.headers["Location"]).json()
        assert member["entity_type"] == "g" and member["entity_id"] == group_id
        assert member["entity_name"] == f"devs-{project}"
        dn = f"cn=devs-{project},dc=example,dc=com"
        by_dn = admin_client.post(
            f"/projects/{project}/members",
            json={"role_id": 3, "member_group": {"ldap_group_dn": dn}},
        )
        assert by_dn.status_code == 409
        assert admin_client.delete(r.headers["Location"]).status_code == 200
    finally:
        with db.transaction() as s:
            s.execute(delete(UserGroup).where(UserGroup.id == group_id))
        db.dispose()


def test_a_robot_cannot_grant_a_role_wider_than_its_access(server, admin_client, new_user, project):
    """A robot holding member:create must not make anyone projectAdmin (escalation)."""
    perms = [
        {
            "kind": "project",
            "namespace": project,
            "access": [
                {"resource": r, "action": a, "effect": "allow"}
                for r, a in (
                    ("member", "create"),
                    ("member", "update"),
                    ("member", "list"),
                    ("repository", "pull"),
                )
            ],
        }
    ]
    r = admin_client.post(
        "/robots", json={"name": "mgr", "level": "project", "duration": -1, "permissions": perms}
    )
    assert r.status_code == 201, r.text
    robot = ApiClient(server.url, (r.json()["name"], r.json()["secret"]))
    _, name, _, _ = new_user()
    _error(_add(robot, project, 1, username=name), 403, "FORBIDDEN")
    _error(_add(robot, project, 5, username=name), 403, "FORBIDDEN")
    assert [m["entity_name"] for m in admin_client.get(f"/projects/{project}/members").json()] == [
        "admin"
    ]
