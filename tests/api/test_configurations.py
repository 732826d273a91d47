"""System configuration: Harbor's response shape, validation, secrets, audit."""

import pytest

pytestmark = pytest.mark.api


def _error(response, status, code):
    assert response.status_code == status, response.text
    assert response.json()["errors"][0]["code"] == code


def test_shape_and_no_secrets(admin_client):
    assert (
        admin_client.put("/configurations", json={"ldap_search_password": "s3cret!"}).status_code
        == 200
    )
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
        assert (
            admin_client.put(
                "/configurations",
                json={
                    "token_expiration": 45,
                    "ldap_scope": 1,
                    "ldap_url": "ldaps://ldap.example.com",
                    "self_registration": False,
                },
            ).status_code
            == 200
        )
        after = admin_client.get("/configurations").json()
        assert after["token_expiration"]["value"] == 45 and after["ldap_scope"]["value"] == 1
        assert after["ldap_url"]["value"] == "ldaps://ldap.example.com"
    finally:
        admin_client.put(
            "/configurations",
            json={
                key: before[key]["value"] for key in ("token_expiration", "ldap_scope", "ldap_url")
            },
        )


@pytest.mark.parametrize(
    "body",
    [
        {"auth_mode": "oidc_auth"},
        {"project_creation_restriction": "nobody"},
        {"token_expiration": 0},
        {"token_expiration": "5"},
        {"ldap_scope": 3},
        {"ldap_scope": -1},
        {"self_registration": "yes"},
        {"ldap_url": "http://x"},
        {"robot_name_prefix": ""},
        [],
        "x",
    ],
)
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
        r = admin.post(
            "/users",
            json={
                "username": "local",
                "email": "l@example.com",
                "realname": "l",
                "password": "Passw0rd!x",
            },
        )
        _error(r, 403, "FORBIDDEN")


def test_changes_are_audited_without_values(admin_client, server):
    from sqlalchemy import select

    from harbor_api.db.models import AuditLog
    from harbor_api.db.session import Database

    admin_client.put(
        "/configurations", json={"ldap_search_password": "TopSecret1", "ldap_timeout": 7}
    )
    db = Database(server.database_url or f"sqlite:///{server.data_dir / 'harbor.db'}")
    try:
        with db.read() as s:
            rows = s.execute(
                select(AuditLog.operation, AuditLog.resource)
                .where(AuditLog.resource_type == "configuration")
                .order_by(AuditLog.id.desc())
                .limit(1)
            ).all()
    finally:
        db.dispose()
    assert rows == [("update", "ldap_search_password,ldap_timeout")]
    admin_client.put("/configurations", json={"ldap_timeout": 5})


# Every key of Harbor's ConfigurationsResponse (api/v2.0/swagger.yaml) but its secrets and
# scan_all_policy (a schedule object Harbor itself leaves out unless a schedule is stored).
HARBOR_RESPONSE_KEYS = {
    "auth_mode": str,
    "primary_auth_mode": bool,
    "ldap_base_dn": str,
    "ldap_filter": str,
    "ldap_group_base_dn": str,
    "ldap_group_admin_dn": str,
    "ldap_group_attribute_name": str,
    "ldap_group_search_filter": str,
    "ldap_group_search_scope": int,
    "ldap_group_attach_parallel": bool,
    "ldap_scope": int,
    "ldap_search_dn": str,
    "ldap_timeout": int,
    "ldap_uid": str,
    "ldap_url": str,
    "ldap_verify_cert": bool,
    "ldap_group_membership_attribute": str,
    "project_creation_restriction": str,
    "read_only": bool,
    "self_registration": bool,
    "token_expiration": int,
    "uaa_client_id": str,
    "uaa_endpoint": str,
    "uaa_verify_cert": bool,
    "http_authproxy_endpoint": str,
    "http_authproxy_tokenreview_endpoint": str,
    "http_authproxy_admin_groups": str,
    "http_authproxy_admin_usernames": str,
    "http_authproxy_verify_cert": bool,
    "http_authproxy_skip_search": bool,
    "http_authproxy_server_certificate": str,
    "oidc_name": str,
    "oidc_endpoint": str,
    "oidc_client_id": str,
    "oidc_groups_claim": str,
    "oidc_admin_group": str,
    "oidc_group_filter": str,
    "oidc_scope": str,
    "oidc_user_claim": str,
    "oidc_verify_cert": bool,
    "oidc_auto_onboard": bool,
    "oidc_extra_redirect_parms": str,
    "oidc_logout": bool,
    "robot_token_duration": int,
    "robot_name_prefix": str,
    "notification_enable": bool,
    "quota_per_project_enable": bool,
    "storage_per_project": int,
    "audit_log_forward_endpoint": str,
    "skip_audit_log_database": bool,
    "scanner_skip_update_pulltime": bool,
    "session_timeout": int,
    "banner_message": str,
    "disabled_audit_log_event_types": str,
}
SECRETS = ("ldap_search_password", "oidc_client_secret", "uaa_client_secret")


def test_get_returns_harbors_full_key_set(admin_client):
    body = admin_client.get("/configurations").json()
    missing = sorted(set(HARBOR_RESPONSE_KEYS) - set(body))
    assert not missing, missing
    for key, kind in HARBOR_RESPONSE_KEYS.items():
        assert set(body[key]) == {"value", "editable"}, key
        assert type(body[key]["value"]) is kind, key
    assert not set(SECRETS) & set(body)
    assert body["storage_per_project"]["value"] == -1
    assert body["session_timeout"]["value"] == 60
    assert body["notification_enable"]["value"] is True


def test_harbor_keys_accepted_and_stored(admin_client):
    changes = {
        "storage_per_project": 1073741824,
        "session_timeout": 90,
        "banner_message": '{"message":"maintenance","type":"info"}',
        "oidc_name": "corp",
        "oidc_endpoint": "https://id.example.com",
        "oidc_client_id": "harbor",
        "oidc_scope": "openid,profile",
        "oidc_verify_cert": False,
        "oidc_extra_redirect_parms": '{"a":"b"}',
        "primary_auth_mode": True,
        "ldap_group_attach_parallel": True,
        "notification_enable": False,
        "quota_per_project_enable": False,
        "uaa_endpoint": "uaa.example.com",
        "http_authproxy_skip_search": True,
        "audit_log_forward_endpoint": "",
        "disabled_audit_log_event_types": "pull",
        "scanner_skip_update_pulltime": True,
        "oidc_logout": True,
    }
    secrets = {
        "oidc_client_secret": "OidcS3cret",
        "uaa_client_secret": "UaaS3cret",
        "ldap_search_password": "LdapS3cret",
    }
    before = admin_client.get("/configurations").json()
    try:
        r = admin_client.put("/configurations", json={**changes, **secrets})
        assert r.status_code == 200, r.text
        r = admin_client.get("/configurations")
        after = r.json()
        for key, value in changes.items():
            assert after[key] == {"value": value, "editable": True}, key
        for key, value in secrets.items():
            assert key not in after and value not in r.text
    finally:
        assert (
            admin_client.put(
                "/configurations", json={key: before[key]["value"] for key in changes}
            ).status_code
            == 200
        )


def test_unknown_keys_are_ignored_as_harbor_does(admin_client):
    """Harbor binds the body to its model: a key it does not know is dropped, not refused."""
    before = admin_client.get("/configurations").json()
    r = admin_client.put(
        "/configurations", json={"nope": 1, "email_host": "smtp.example.com", "with_trivy": True}
    )
    assert r.status_code == 200, r.text
    after = admin_client.get("/configurations").json()
    assert after == before and "nope" not in after


def test_null_keys_are_skipped(admin_client):
    """Harbor's LDAP tooling sends every ldap key, null for the unset ones."""
    before = admin_client.get("/configurations").json()
    ldap_keys = [k for k in HARBOR_RESPONSE_KEYS if k.startswith("ldap_")]
    body = {key: None for key in ldap_keys + ["ldap_search_password", "auth_mode"]}
    body["ldap_timeout"] = 9
    try:
        r = admin_client.put("/configurations", json=body)
        assert r.status_code == 200, r.text
        after = admin_client.get("/configurations").json()
        assert after["ldap_timeout"]["value"] == 9
        assert {k: v for k, v in after.items() if k != "ldap_timeout"} == {
            k: v for k, v in before.items() if k != "ldap_timeout"
        }
    finally:
        admin_client.put("/configurations", json={"ldap_timeout": before["ldap_timeout"]["value"]})


@pytest.mark.parametrize(
    "body",
    [
        {"storage_per_project": 0},
        {"storage_per_project": -2},
        {"session_timeout": 0},
        {"session_timeout": "60"},
        {"oidc_verify_cert": "no"},
        {"banner_message": 5},
        {"oidc_extra_redirect_parms": "not json"},
        {"skip_audit_log_database": True, "audit_log_forward_endpoint": ""},
    ],
)
def test_invalid_harbor_values_rejected(admin_client, body):
    before = admin_client.get("/configurations").json()
    _error(admin_client.put("/configurations", json=body), 400, "BAD_REQUEST")
    assert admin_client.get("/configurations").json() == before


def test_auth_mode_editable_only_without_other_users(admin_client, new_user):
    new_user()
    body = admin_client.get("/configurations").json()
    assert body["auth_mode"]["editable"] is False
    assert body["token_expiration"]["editable"] is True


@pytest.mark.parametrize("backend_name", ["sqlite", "postgresql"])
def test_change_seen_at_once_by_every_worker(tmp_path, backend_name):
    """A change made through one worker holds on the next request whichever worker (or node)
    answers it: many fresh connections right after the change all see it."""
    import contextlib

    from tests.support.clients import ApiClient
    from tests.support.servers import ADMIN_PASSWORD, postgres_database, running_server

    database = postgres_database() if backend_name == "postgresql" else contextlib.nullcontext("")
    with database as url, running_server(tmp_path, url, extra_args=["--workers", "2"]) as srv:
        admin = ApiClient(srv.url, ("admin", ADMIN_PASSWORD))
        r = admin.post(
            "/users",
            json={
                "username": "plain",
                "email": "p@example.com",
                "realname": "p",
                "password": "Passw0rd!x",
            },
        )
        assert r.status_code == 201, r.text

        def fresh(auth=("plain", "Passw0rd!x")):
            client = ApiClient(srv.url, auth)
            client.headers["Connection"] = "close"  # a new connection: any worker
            return client

        for round_ in range(3):
            # warm both workers' view of the configuration first
            for _ in range(8):
                assert fresh(("admin", ADMIN_PASSWORD)).get("/configurations").status_code == 200
            assert (
                admin.put(
                    "/configurations", json={"project_creation_restriction": "adminonly"}
                ).status_code
                == 200
            )
            for i in range(12):
                r = fresh().post("/projects", json={"project_name": f"p{round_}-{i}"})
                assert r.status_code == 403, (i, r.text)
            assert (
                admin.put(
                    "/configurations",
                    json={
                        "project_creation_restriction": "everyone",
                        "token_expiration": 40 + round_,
                    },
                ).status_code
                == 200
            )
            for _ in range(12):
                with fresh(("admin", ADMIN_PASSWORD)) as client:
                    assert (
                        client.get("/configurations").json()["token_expiration"]["value"]
                        == 40 + round_
                    )
            r = fresh().post("/projects", json={"project_name": f"ok{round_}"})
            assert r.status_code == 201, r.text


def test_robot_prefix_change_holds_on_next_request(admin_client, project, server):
    from tests.api.test_robots import robot_body
    from tests.conftest import unique
    from tests.support.clients import ApiClient

    r = admin_client.post("/robots", json=robot_body(unique("p"), project, "repository:pull"))
    assert r.status_code == 201, r.text
    robot = r.json()
    short = robot["name"][len("robot$") :]

    def v2(name):
        with ApiClient(server.url, (name, robot["secret"])) as client:
            return client.get("/v2/").status_code

    try:
        assert v2(robot["name"]) == 200
        assert (
            admin_client.put("/configurations", json={"robot_name_prefix": "bot_"}).status_code
            == 200
        )
        assert v2("bot_" + short) == 200
        assert v2(robot["name"]) == 401
    finally:
        admin_client.put("/configurations", json={"robot_name_prefix": "robot$"})
        admin_client.delete(f"/robots/{robot['id']}")


def test_what_get_returns_can_be_put_back(admin_client):
    """Configuration as code: read every setting, write them all back unchanged."""
    before = admin_client.get("/configurations").json()
    r = admin_client.put("/configurations", json={k: v["value"] for k, v in before.items()})
    assert r.status_code == 200, r.text
    assert admin_client.get("/configurations").json() == before
