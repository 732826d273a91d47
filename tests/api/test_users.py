"""Users: administration, self-service, search, password policy, audit."""

import base64
from urllib.parse import urlencode

import pytest
import requests

from tests.conftest import unique
from tests.support.clients import ApiClient
from tests.support.servers import ADMIN_PASSWORD

pytestmark = pytest.mark.api

USER_FIELDS = {
    "email",
    "realname",
    "comment",
    "user_id",
    "username",
    "sysadmin_flag",
    "admin_role_in_auth",
    "creation_time",
    "update_time",
}


def _create(admin_client, **overrides):
    name = unique("u")
    body = {
        "username": name,
        "email": f"{name}@example.com",
        "realname": "Real Name",
        "password": "Passw0rd!x",
    }
    body.update(overrides)
    return name, admin_client.post("/users", json=body)


def _error(response, status, code):
    assert response.status_code == status, response.text
    assert response.json()["errors"][0]["code"] == code


def test_create_user_returns_location_and_profile(admin_client):
    name, r = _create(admin_client, comment="hello")
    assert r.status_code == 201, r.text
    location = r.headers["Location"]
    assert location.startswith("/api/v2.0/users/")
    user = admin_client.get(location).json()
    assert set(user) == USER_FIELDS
    assert user["username"] == name and user["comment"] == "hello"
    assert user["sysadmin_flag"] is False and user["admin_role_in_auth"] is False
    assert user["creation_time"].endswith(("Z", "+00:00"))
    assert "password" not in r.text
    admin_client.delete(location)


def test_duplicate_username_or_email_conflicts(admin_client):
    name, r = _create(admin_client)
    user_id = r.headers["Location"].rsplit("/", 1)[1]
    _error(
        admin_client.post(
            "/users",
            json={
                "username": name,
                "email": "other@example.com",
                "realname": "x",
                "password": "Passw0rd!x",
            },
        ),
        409,
        "CONFLICT",
    )
    _error(_create(admin_client, email=f"{name}@example.com")[1], 409, "CONFLICT")
    admin_client.delete(f"/users/{user_id}")


@pytest.mark.parametrize("password", ["short1A", "alllowercase1", "ALLUPPER1", "NoDigitsHere", ""])
def test_password_policy_enforced_on_create(admin_client, password):
    _error(_create(admin_client, password=password)[1], 400, "BAD_REQUEST")


@pytest.mark.parametrize(
    "overrides",
    [
        {"email": "not-an-email"},
        {"username": "has,comma"},
        {"username": ""},
        {"realname": "bad$name"},
        {"comment": "x" * 31},
        {"username": 42},
    ],
)
def test_invalid_profiles_rejected(admin_client, overrides):
    _error(_create(admin_client, **overrides)[1], 400, "BAD_REQUEST")


def test_only_admins_list_and_create(new_user, anon_client):
    _, _, _, client = new_user()
    _error(client.get("/users"), 403, "FORBIDDEN")
    _error(anon_client.get("/users"), 401, "UNAUTHORIZED")
    _error(
        client.post(
            "/users",
            json={
                "username": unique("x"),
                "email": "x@example.com",
                "realname": "x",
                "password": "Passw0rd!x",
            },
        ),
        403,
        "FORBIDDEN",
    )


def test_list_users_paging_and_query(admin_client):
    prefix = unique("pg")
    created = []
    for i in range(3):
        r = admin_client.post(
            "/users",
            json={
                "username": f"{prefix}-{i}",
                "email": f"{prefix}-{i}@example.com",
                "realname": "p",
                "password": "Passw0rd!x",
            },
        )
        created.append(r.headers["Location"])
    q = f"username=~{prefix}"
    r = admin_client.get("/users", params={"q": q, "page": 2, "page_size": 1, "sort": "-username"})
    assert r.status_code == 200
    assert r.headers["X-Total-Count"] == "3"
    assert [u["username"] for u in r.json()] == [f"{prefix}-1"]
    prev = "/api/v2.0/users?" + urlencode(
        [("page", "1"), ("page_size", "1"), ("q", q), ("sort", "-username")]
    )
    nxt = "/api/v2.0/users?" + urlencode(
        [("page", "3"), ("page_size", "1"), ("q", q), ("sort", "-username")]
    )
    assert r.headers["Link"] == f'<{prev}>; rel="prev" , <{nxt}>; rel="next"'
    last = admin_client.get("/users", params={"q": q, "page": 3, "page_size": 1})
    assert 'rel="next"' not in last.headers.get("Link", "")
    _error(admin_client.get("/users", params={"q": "nosuchkey=1"}), 400, "BAD_REQUEST")
    _error(admin_client.get("/users", params={"sort": "password"}), 400, "BAD_REQUEST")
    for location in created:
        admin_client.delete(location)


def test_search_users_for_any_authenticated_user(new_user, anon_client):
    user_id, name, _, client = new_user()
    r = client.get("/users/search", params={"username": name})
    assert r.status_code == 200
    assert r.json() == [{"user_id": user_id, "username": name}]
    assert r.headers["X-Total-Count"] == "1"
    _error(anon_client.get("/users/search", params={"username": name}), 401, "UNAUTHORIZED")


def test_current_user(new_user, anon_client):
    user_id, name, _, client = new_user()
    me = client.get("/users/current").json()
    assert me["user_id"] == user_id and me["username"] == name
    _error(anon_client.get("/users/current"), 401, "UNAUTHORIZED")


def test_get_user_self_or_admin_only(new_user, admin_client):
    user_id, _, _, client = new_user()
    other_id, _, _, _ = new_user()
    assert client.get(f"/users/{user_id}").status_code == 200
    _error(client.get(f"/users/{other_id}"), 403, "FORBIDDEN")
    _error(admin_client.get("/users/987654"), 404, "NOT_FOUND")
    _error(admin_client.get("/users/not-a-number"), 404, "NOT_FOUND")  # no such route


def test_update_profile_self_and_admin(new_user, admin_client):
    user_id, name, _, client = new_user()
    other_id, other_name, _, _ = new_user()
    assert (
        client.put(
            f"/users/{user_id}", json={"realname": "New Name", "comment": "mine"}
        ).status_code
        == 200
    )
    me = client.get("/users/current").json()
    assert me["realname"] == "New Name" and me["comment"] == "mine"
    _error(client.put(f"/users/{other_id}", json={"realname": "x"}), 403, "FORBIDDEN")
    _error(
        admin_client.put(f"/users/{user_id}", json={"email": f"{other_name}@example.com"}),
        409,
        "CONFLICT",
    )
    _error(admin_client.put(f"/users/{user_id}", json={"email": "bad"}), 400, "BAD_REQUEST")
    assert (
        admin_client.put(f"/users/{user_id}", json={"email": f"{name}-new@example.com"}).status_code
        == 200
    )


def test_password_change_rules(new_user, admin_client, server):
    user_id, name, password, client = new_user()
    other_id, _, _, _ = new_user()
    body = {"old_password": "Wrong0ne!", "new_password": "Changed0ne!"}
    _error(client.put(f"/users/{user_id}/password", json=body), 403, "FORBIDDEN")
    _error(
        client.put(f"/users/{user_id}/password", json={"new_password": "Changed0ne!"}),
        400,
        "BAD_REQUEST",
    )
    _error(
        client.put(
            f"/users/{user_id}/password", json={"old_password": password, "new_password": "weak"}
        ),
        400,
        "BAD_REQUEST",
    )
    _error(
        client.put(
            f"/users/{user_id}/password", json={"old_password": password, "new_password": password}
        ),
        400,
        "BAD_REQUEST",
    )
    _error(
        client.put(f"/users/{other_id}/password", json={"new_password": "Changed0ne!"}),
        403,
        "FORBIDDEN",
    )
    assert (
        client.put(
            f"/users/{user_id}/password",
            json={"old_password": password, "new_password": "Changed0ne!"},
        ).status_code
        == 200
    )
    assert client.get("/users/current").status_code == 401  # old password no longer works
    fresh = ApiClient(server.url, (name, "Changed0ne!"))
    assert fresh.get("/users/current").status_code == 200
    # an administrator resets another user's password without the old one
    assert (
        admin_client.put(
            f"/users/{user_id}/password", json={"new_password": "Reset0000!"}
        ).status_code
        == 200
    )
    assert ApiClient(server.url, (name, "Reset0000!")).get("/users/current").status_code == 200
    # but must give the old one for their own
    _error(
        admin_client.put("/users/1/password", json={"new_password": "Other0000!"}),
        400,
        "BAD_REQUEST",
    )


def test_sysadmin_flag(new_user, admin_client):
    user_id, _, _, client = new_user()
    _error(client.get("/configurations"), 403, "FORBIDDEN")
    assert (
        admin_client.put(f"/users/{user_id}/sysadmin", json={"sysadmin_flag": True}).status_code
        == 200
    )
    assert client.get(f"/users/{user_id}").json()["sysadmin_flag"] is True
    assert client.get("/configurations").status_code == 200
    _error(
        client.put(f"/users/{user_id}/sysadmin", json={"sysadmin_flag": False}), 403, "FORBIDDEN"
    )  # not your own flag
    _error(client.put("/users/1/sysadmin", json={"sysadmin_flag": False}), 403, "FORBIDDEN")
    assert (
        admin_client.put(f"/users/{user_id}/sysadmin", json={"sysadmin_flag": False}).status_code
        == 200
    )
    _error(client.put("/users/1/sysadmin", json={"sysadmin_flag": False}), 403, "FORBIDDEN")
    _error(
        admin_client.put("/users/987654/sysadmin", json={"sysadmin_flag": True}), 404, "NOT_FOUND"
    )


def test_delete_user_rules(new_user, admin_client, project, server):
    user_id, name, password, client = new_user()
    admin_id = admin_client.get("/users/current").json()["user_id"]
    _error(admin_client.delete(f"/users/{admin_id}"), 403, "FORBIDDEN")
    _error(client.delete(f"/users/{admin_id}"), 403, "FORBIDDEN")
    r = admin_client.post(
        f"/projects/{project}/members",
        headers={"X-Is-Resource-Name": "true"},
        json={"role_id": 2, "member_user": {"user_id": user_id}},
    )
    assert r.status_code == 201, r.text
    assert admin_client.delete(f"/users/{user_id}").status_code == 200
    _error(admin_client.get(f"/users/{user_id}"), 404, "NOT_FOUND")
    _error(admin_client.delete(f"/users/{user_id}"), 404, "NOT_FOUND")
    members = admin_client.get(f"/projects/{project}/members").json()
    assert name not in [m["entity_name"] for m in members]
    assert ApiClient(server.url, (name, password)).get("/users/current").status_code == 401


def test_user_changes_are_audited(admin_client, server):
    from sqlalchemy import select

    from harbor_api.db.models import AuditLog
    from harbor_api.db.session import Database

    name, r = _create(admin_client)
    admin_client.delete(r.headers["Location"])
    db = Database(server.database_url or f"sqlite:///{server.data_dir / 'harbor.db'}")
    try:
        with db.read() as s:
            ops = s.scalars(
                select(AuditLog.operation).where(
                    AuditLog.resource_type == "user", AuditLog.resource == name
                )
            ).all()
    finally:
        db.dispose()
    assert sorted(ops) == ["create", "delete"]


def test_no_server_error_on_garbage(admin_client):
    for body in ([], "text", {"username": None}, {"password": 5}):
        r = admin_client.post("/users", json=body)
        assert r.status_code == 400, (body, r.text)
    r = admin_client.post("/users", data="{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert admin_client.get("/users", params={"page": 0}).status_code == 400
    assert admin_client.get("/users", params={"page_size": 101}).status_code == 400


def test_admin_password_unchanged(server):
    assert ApiClient(server.url, ("admin", ADMIN_PASSWORD)).get("/users/current").ok


def test_self_registration(admin_client, anon_client):
    name = unique("self")
    body = {
        "username": name,
        "email": f"{name}@example.com",
        "realname": "Self",
        "password": "Passw0rd!x",
    }
    _error(anon_client.post("/users", json=body), 401, "UNAUTHORIZED")
    assert admin_client.put("/configurations", json={"self_registration": True}).ok
    try:
        r = anon_client.post("/users", json=body)
        assert r.status_code == 201, r.text
    finally:
        admin_client.put("/configurations", json={"self_registration": False})
    assert admin_client.get(r.headers["Location"]).json()["sysadmin_flag"] is False
    admin_client.delete(r.headers["Location"])


def test_search_and_name_filters_take_any_text(admin_client):
    for text in ("a,b", "{x y}", "[1~2]", "%", "_", "'quoted'"):
        r = admin_client.get("/users/search", params={"username": text})
        assert r.status_code == 200 and r.json() == [], (text, r.text)
        r = admin_client.get("/projects", params={"name": text})
        assert r.status_code == 200 and r.json() == [], (text, r.text)


@pytest.mark.parametrize("username", ["ad\x00min", "robot$x\x00y"])
def test_nul_in_a_basic_username_is_a_401_not_a_500(server, username):
    """PostgreSQL text cannot hold NUL: such a name must be refused before any query."""
    encoded = base64.b64encode(f"{username}:Passw0rd1".encode()).decode()
    for path in ("/api/v2.0/users/current", "/v2/", "/service/token"):
        r = requests.get(
            f"{server.url}{path}", headers={"Authorization": f"Basic {encoded}"}, timeout=30
        )
        assert r.status_code == 401, (path, r.text)
    r = requests.post(
        f"{server.url}/c/login", timeout=30, data={"principal": username, "password": "Passw0rd1"}
    )
    assert r.status_code == 401, r.text
