"""System configuration: Harbor's response shape, validation, secrets, audit."""

import pytest

pytestmark = pytest.mark.api


def _error(response, status, code):
    assert response.status_code == status, response.text
    assert response.json()["errors"][0]["code"] == code


def test_shape_and_no_secrets(admin_client):
    assert admin_client.put("/configurations", json={"ldap_search_password": "s3cret!"}
                            ).status_code == 200
    r = admin_client.get("/configurations")
    assert r.status_code == 200
    body = r.json()
    assert body["auth_mode"] == {"value": "db_auth", "editable": True}
    assert body["token_expiration"]["value"] >= 1
    assert isinstance(body["self_registration"]["value"], bool)
    assert "ldap_search_password" not in body and "s3cret!" not in r.text


def test_only_system_admins(new_user, anon_client):
    _, _, _, client = new_user()
    _error(client.get("/configurations"), 403, "FORBIDDEN")
    _error(client.put("/configurations", json={"token_expiration": 5}), 403, "FORBIDDEN")
    _error(anon_client.get("/configurations"), 401, "UNAUTHORIZED")


def test_update_and_read_back(admin_client):
    before = admin_client.get("/configurations").json()
    try:
        assert admin_client.put("/configurations", json={
            "token_expiration": 45, "ldap_scope": 1, "ldap_url": "ldaps://ldap.example.com",
            "self_registration": False}).status_code == 200
        after = admin_client.get("/configurations").json()
        assert after["token_expiration"]["value"] == 45 and after["ldap_scope"]["value"] == 1
        assert after["ldap_url"]["value"] == "ldaps://ldap.example.com"
    finally:
        admin_client.put("/configurations", json={
            key: before[key]["value"] for key in ("token_expiration", "ldap_scope", "ldap_url")})


@pytest.mark.parametrize("body", [{"nope": 1}, {"auth_mode": "oidc_auth"},
                                  {"project_creation_restriction": "nobody"},
                                  {"token_expiration": 0}, {"token_expiration": "5"},
                                  {"ldap_scope": 3}, {"ldap_scope": -1},
                                  {"self_registration": "yes"}, {"ldap_url": "http://x"},
                                  {"robot_name_prefix": ""}, [], "x"])
def test_invalid_updates_rejected(admin_client, body):
    before = admin_client.get("/configurations").json()
    _error(admin_client.put("/configurations", json=body), 400, "BAD_REQUEST")
    assert admin_client.get("/configurations").json() == before


def test_auth_mode_locked_once_users_exist(admin_client, new_user):
    new_user()
    r = admin_client.put("/configurations", json={"auth_mode": "ldap_auth"})
    _error(r, 400, "BAD_REQUEST")
    assert admin_client.get("/configurations").json()["auth_mode"]["value"] == "db_auth"
    # setting the same mode again is not a switch
    assert admin_client.put("/configurations", json={"auth_mode": "db_auth"}).status_code == 200


def test_auth_mode_switch_allowed_without_other_users(tmp_path):
    from tests.support.clients import ApiClient
    from tests.support.servers import ADMIN_PASSWORD, running_server

    with running_server(tmp_path) as srv:
        admin = ApiClient(srv.url, ("admin", ADMIN_PASSWORD))
        assert admin.put("/configurations", json={"auth_mode": "ldap_auth"}).status_code == 200
        assert admin.get("/configurations").json()["auth_mode"]["value"] == "ldap_auth"
        assert admin.get("/systeminfo").json()["auth_mode"] == "ldap_auth"
        r = admin.post("/users", json={"username": "local", "email": "l@example.com",
                                       "realname": "l", "password": "Passw0rd!x"})
        _error(r, 403, "FORBIDDEN")


def test_changes_are_audited_without_values(admin_client, server):
    from sqlalchemy import select

    from harbor_api.db.models import AuditLog
    from harbor_api.db.session import Database

    admin_client.put("/configurations", json={"ldap_search_password": "TopSecret1",
                                              "ldap_timeout": 7})
    db = Database(server.database_url or f"sqlite:///{server.data_dir / 'harbor.db'}")
    try:
        with db.read() as s:
            rows = s.execute(select(AuditLog.operation, AuditLog.resource).where(
                AuditLog.resource_type == "configuration").order_by(AuditLog.id.desc())
                .limit(1)).all()
    finally:
        db.dispose()
    assert rows == [("update", "ldap_search_password,ldap_timeout")]
    admin_client.put("/configurations", json={"ldap_timeout": 5})
