"""LDAP / Active Directory end to end, against a real OpenLDAP (``slapd``) and a real server.

One fresh server per module is switched to ``ldap_auth`` through ``PUT /configurations``;
directory users then sign in through Basic (API and /v2), the portal session and skopeo.
The directory layout is in ``tests/support/slapd.py``.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from contextlib import ExitStack

import jwt
import ldap3
import pytest
import requests
import sqlalchemy

from harbor_api.auth.ldap import LdapSettings
from tests.support.clients import ApiClient
from tests.support.images import OciLayout
from tests.support.registry_clients import Podman, Registry, push_image, skopeo_copy
from tests.support.servers import ADMIN_PASSWORD, postgres_database, running_server
from tests.support.slapd import BASE_DN, GROUP_BASE_DN, PEOPLE, USERS, group_dn, running_slapd

pytestmark = pytest.mark.e2e

DEVELOPER, GUEST = 2, 3


def pw(uid: str) -> str:
    return USERS[uid].password


@pytest.fixture(scope="module")
def slapd(tmp_path_factory):
    with running_slapd(tmp_path_factory.mktemp("slapd")) as directory:
        yield directory


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request, tmp_path_factory, slapd):
    """A fresh server switched to ldap_auth, once per database backend."""
    with ExitStack() as stack:
        url = stack.enter_context(postgres_database()) if request.param == "postgresql" else ""
        srv = stack.enter_context(running_server(tmp_path_factory.mktemp("ldap-server"), url))
        with ApiClient(srv.url, ("admin", ADMIN_PASSWORD)) as admin:
            r = admin.put("/configurations", json=slapd.ldap_config())
            assert r.status_code == 200, r.text
        yield srv


@pytest.fixture
def admin(server):
    with ApiClient(server.url, ("admin", ADMIN_PASSWORD)) as client:
        yield client


def as_user(server, uid: str, password: str | None = None) -> ApiClient:
    return ApiClient(server.url, (uid, pw(uid) if password is None else password))


def make_group(admin: ApiClient, cn: str) -> int:
    found = admin.get("/usergroups", params={"ldap_group_dn": group_dn(cn)})
    assert found.status_code == 200, found.text
    if found.json():
        return found.json()[0]["id"]
    r = admin.post("/usergroups", json={"group_type": 1, "ldap_group_dn": group_dn(cn)})
    assert r.status_code == 201, r.text
    return int(r.headers["Location"].rsplit("/", 1)[1])


def project_with_group(admin: ApiClient, cn: str, role: int) -> str:
    name = f"ldap-{cn}-{uuid.uuid4().hex[:6]}"
    r = admin.post("/projects", json={"project_name": name, "metadata": {"public": "false"}})
    assert r.status_code == 201, r.text
    r = admin.post(
        f"/projects/{name}/members",
        json={"role_id": role, "member_group": {"id": make_group(admin, cn)}},
    )
    assert r.status_code == 201, r.text
    return name


def role_in(client: ApiClient, project: str) -> int | None:
    r = client.get(f"/projects/{project}")
    if r.status_code == 404:
        return None
    assert r.status_code == 200, r.text
    return r.json().get("current_user_role_id")


def set_profile(slapd, mail: str, display: str) -> None:
    conn = slapd.admin_connection()
    conn.modify(
        USERS["nogroup"].dn,
        {
            "mail": [(ldap3.MODIFY_REPLACE, [mail])],
            "displayName": [(ldap3.MODIFY_REPLACE, [display])],
        },
    )
    conn.unbind()


# ---------------------------------------------------------------------------- logins
def test_first_login_creates_the_user_and_later_logins_refresh_it(server, admin, slapd):
    with as_user(server, "nogroup") as client:
        r = client.get("/users/current")
        assert r.status_code == 200, r.text
        me = r.json()
        assert (me["username"], me["email"], me["realname"]) == (
            "nogroup",
            "nogroup@example.org",
            "No Group",
        )
        assert me["sysadmin_flag"] is False
        set_profile(slapd, "ng@example.org", "N. G.")
        try:
            # a settings change drops the short verification cache: the next login asks again
            assert admin.put("/configurations", json={"ldap_timeout": 4}).status_code == 200
            me = client.get("/users/current").json()
            assert (me["email"], me["realname"]) == ("ng@example.org", "N. G.")
        finally:
            set_profile(slapd, "nogroup@example.org", "No Group")
    listed = admin.get("/users/search", params={"username": "nogroup"}).json()
    assert [u["username"] for u in listed] == ["nogroup"]  # one local user, not two


def test_portal_session_login_as_a_directory_user(server):
    with requests.Session() as browser:
        r = browser.post(
            f"{server.url}/c/login",
            timeout=30,
            data={"principal": "carol", "password": pw("carol")},
        )
        assert r.status_code == 200, r.text
        me = browser.get(f"{server.url}/api/v2.0/users/current", timeout=30)
        assert me.status_code == 200 and me.json()["username"] == "carol"
        bad = browser.post(
            f"{server.url}/c/login", timeout=30, data={"principal": "carol", "password": "wrong"}
        )
        assert bad.status_code == 401


def test_user_needing_filter_escaping_signs_in(server):
    with as_user(server, "jo(h)n*") as client:
        r = client.get("/users/current")
        assert r.status_code == 200, r.text
        assert r.json()["username"] == "jo(h)n*"


@pytest.mark.parametrize(
    "username, password",
    [
        ("*", "Alice-Pass1"),
        (")(uid=*", "Alice-Pass1"),
        ("admin*", "Alice-Pass1"),
        ("al*", "Alice-Pass1"),
        ("*)(|(uid=*", "x"),
        ("bob", ""),
        ("dave", "wrong-password"),
        ("nobody-here", "Whatever1"),
    ],
)
def test_injection_attempts_and_empty_or_wrong_passwords_fail(server, username, password):
    with ApiClient(server.url) as client:
        r = client.get("/users/current", auth=(username, password))
        assert r.status_code == 401, (username, r.text)
        v2 = client.get("/v2/", auth=(username, password))
        assert v2.status_code == 401


def test_local_admin_still_uses_the_database(server):
    with ApiClient(server.url, ("admin", ADMIN_PASSWORD)) as client:
        assert client.get("/users/current").json()["username"] == "admin"
    with ApiClient(server.url, ("admin", "wrong")) as client:
        assert client.get("/users/current").status_code == 401


def test_settings_never_show_the_search_password():
    settings = LdapSettings(url="ldap://x", search_dn="cn=svc", search_password="S3cret-Bind")
    assert "S3cret-Bind" not in repr(settings) and "S3cret-Bind" not in str(settings)


# ---------------------------------------------------------------------------- groups
def test_group_roles_direct_and_nested(server, admin):
    dev = project_with_group(admin, "developers", DEVELOPER)
    guest = project_with_group(admin, "guests", GUEST)
    with (
        as_user(server, "alice") as alice,
        as_user(server, "carol") as carol,
        as_user(server, "bob") as bob,
        as_user(server, "nogroup") as nogroup,
    ):
        assert role_in(alice, dev) == DEVELOPER
        assert role_in(carol, dev) == DEVELOPER  # carol ∈ platform ∈ developers
        assert role_in(bob, guest) == GUEST
        assert role_in(bob, dev) is None  # invisible: not a member
        assert role_in(nogroup, dev) is None
        assert role_in(alice, guest) is None


def test_direct_membership_and_group_role_take_the_highest(server, admin):
    project = project_with_group(admin, "guests", GUEST)
    with as_user(server, "bob") as bob:
        assert bob.get("/users/current").status_code == 200  # bob exists locally now
        r = admin.post(
            f"/projects/{project}/members",
            json={"role_id": DEVELOPER, "member_user": {"username": "bob"}},
        )
        assert r.status_code == 201, r.text
        assert role_in(bob, project) == DEVELOPER


def test_group_member_pushes_through_v2_and_guest_is_refused(server, admin):
    dev = project_with_group(admin, "developers", DEVELOPER)
    guest = project_with_group(admin, "guests", GUEST)
    carol = Registry("harbor", server, creds=("carol", pw("carol")))  # nested group member
    push_image(carol, f"{dev}/app", "v1")
    bob = Registry("harbor", server, creds=("bob", pw("bob")))
    r = bob.v2("POST", f"{guest}/app/blobs/uploads/")
    assert r.status_code in (401, 403), r.text
    pulled = bob.v2("GET", f"{dev}/app/tags/list")
    assert pulled.status_code in (401, 403, 404)


def test_skopeo_push_as_a_directory_user(server, admin, tmp_path):
    dev = project_with_group(admin, "developers", DEVELOPER)
    layout = OciLayout(tmp_path / "src")
    layout.add_image("v1", layers=1)
    skopeo_copy(
        f"oci:{layout.path}:v1",
        f"docker://{server.host}/{dev}/skopeo:v1",
        dest_creds=f"alice:{pw('alice')}",
    )
    alice = Registry("harbor", server, creds=("alice", pw("alice")))
    assert alice.v2("GET", f"{dev}/skopeo/tags/list").json()["tags"] == ["v1"]
    guest = project_with_group(admin, "guests", GUEST)
    with pytest.raises(AssertionError):
        skopeo_copy(
            f"oci:{layout.path}:v1",
            f"docker://{server.host}/{guest}/skopeo:v1",
            dest_creds=f"bob:{pw('bob')}",
            timeout=120,
        )


def test_admin_group_members_are_system_admins(server):
    for uid in ("dave", "erin"):  # erin ∈ ops ∈ harbor-admins
        with as_user(server, uid) as client:
            assert client.get("/configurations").status_code == 200, uid
    with as_user(server, "alice") as alice:
        assert alice.get("/configurations").status_code == 403


def test_group_cycle_is_harmless(server):
    with as_user(server, "frank") as frank:  # loop-a ∋ loop-b ∋ loop-a
        assert frank.get("/users/current").status_code == 200


def test_session_keeps_group_roles(server, admin):
    dev = project_with_group(admin, "developers", DEVELOPER)
    with requests.Session() as browser:
        r = browser.post(
            f"{server.url}/c/login",
            timeout=30,
            data={"principal": "alice", "password": pw("alice")},
        )
        assert r.status_code == 200, r.text
        got = browser.get(f"{server.url}/api/v2.0/projects/{dev}", timeout=30)
        assert got.status_code == 200 and got.json()["current_user_role_id"] == DEVELOPER


def test_current_user_shows_the_admin_role_granted_by_the_directory(server):
    for uid in ("dave", "erin"):  # in the LDAP admin group: admin by the directory
        with as_user(server, uid) as client:
            me = client.get("/users/current").json()
            assert (me["sysadmin_flag"], me["admin_role_in_auth"]) == (False, True), uid
    with as_user(server, "alice") as alice:
        me = alice.get("/users/current").json()
        assert (me["sysadmin_flag"], me["admin_role_in_auth"]) == (False, False)


def test_directory_users_cannot_change_their_password_here(server, admin):
    """Harbor: only the local admin's password is managed locally outside db_auth (403)."""
    with as_user(server, "bob") as bob:
        bob_id = bob.get("/users/current").json()["user_id"]
        r = bob.put(
            f"/users/{bob_id}/password",
            json={"old_password": pw("bob"), "new_password": "Another-Pass1"},
        )
        assert r.status_code == 403, r.text
    r = admin.put(f"/users/{bob_id}/password", json={"new_password": "Another-Pass1"})
    assert r.status_code == 403, r.text
    with as_user(server, "bob", "Another-Pass1") as stale:
        assert stale.get("/users/current").status_code == 401
    with as_user(server, "bob") as bob:
        assert bob.get("/users/current").status_code == 200


def test_directory_users_profiles_are_not_edited_here(server, admin):
    """Harbor: outside db_auth only the local admin's profile is edited locally (403)."""
    with as_user(server, "bob") as bob:
        bob_id = bob.get("/users/current").json()["user_id"]
        change = {"email": "bob2@example.org", "realname": "Bob Two", "comment": ""}
        assert bob.put(f"/users/{bob_id}", json=change).status_code == 403
        assert admin.put(f"/users/{bob_id}", json=change).status_code == 403
        assert bob.get("/users/current").json()["email"] == "bob@example.org"
    admin_id = admin.get("/users/current").json()["user_id"]
    r = admin.put(
        f"/users/{admin_id}",
        json={"email": "admin@example.org", "realname": "Admin", "comment": ""},
    )
    assert r.status_code == 200, r.text


# ---------------------------------------------------------------------------- usergroups
def test_usergroups_crud(server, admin):
    dn = group_dn("ops")
    r = admin.post("/usergroups", json={"group_type": 1, "ldap_group_dn": dn})
    assert r.status_code == 201, r.text
    gid = int(r.headers["Location"].rsplit("/", 1)[1])
    got = admin.get(f"/usergroups/{gid}").json()
    assert got == {"id": gid, "group_name": "ops", "group_type": 1, "ldap_group_dn": dn}
    dup = admin.post("/usergroups", json={"group_type": 1, "ldap_group_dn": dn.upper()})
    assert dup.status_code == 409
    listed = admin.get("/usergroups", params={"ldap_group_dn": dn.upper()}).json()
    assert [g["id"] for g in listed] == [gid]
    assert gid in [g["id"] for g in admin.get("/usergroups", params={"group_name": "op"}).json()]
    assert admin.put(f"/usergroups/{gid}", json={"group_name": "Operations"}).status_code == 200
    assert admin.get(f"/usergroups/{gid}").json()["group_name"] == "Operations"
    moved = admin.put(
        f"/usergroups/{gid}", json={"group_name": "x", "ldap_group_dn": group_dn("guests")}
    )
    assert moved.status_code == 400
    with as_user(server, "alice") as alice:
        found = alice.get("/usergroups/search", params={"groupname": "operat"})
        assert found.status_code == 200
        assert found.json() == [{"id": gid, "group_name": "Operations", "group_type": 1}]
        assert alice.get("/usergroups").status_code == 403
        assert (
            alice.post("/usergroups", json={"group_type": 1, "ldap_group_dn": dn}).status_code
            == 403
        )
    assert admin.delete(f"/usergroups/{gid}").status_code == 200
    assert admin.get(f"/usergroups/{gid}").status_code == 404


def test_usergroup_dn_must_exist_in_the_directory(server, admin):
    r = admin.post(
        "/usergroups", json={"group_type": 1, "ldap_group_dn": f"cn=ghosts,{GROUP_BASE_DN}"}
    )
    assert r.status_code == 404, r.text
    assert (
        admin.post("/usergroups", json={"group_type": 1, "ldap_group_dn": "not a dn"}).status_code
        == 400
    )
    assert (
        admin.post(
            "/usergroups", json={"group_type": 3, "ldap_group_dn": group_dn("ops")}
        ).status_code
        == 400
    )


def test_deleting_a_group_removes_its_project_roles(server, admin):
    project = project_with_group(admin, "loop-b", DEVELOPER)
    with as_user(server, "frank") as frank:
        assert role_in(frank, project) == DEVELOPER  # frank ∈ loop-a ∈ loop-b
        gid = admin.get("/usergroups", params={"ldap_group_dn": group_dn("loop-b")}).json()[0]
        assert admin.delete(f"/usergroups/{gid['id']}").status_code == 200
        assert role_in(frank, project) is None


# ---------------------------------------------------------------------------- /ldap tools
def test_ldap_ping_reports_precise_reasons(server, admin, slapd):
    ok = admin.post("/ldap/ping", json={})
    assert ok.status_code == 200 and ok.json()["success"] is True, ok.text
    cases = {
        "LDAP search credentials rejected": {"ldap_search_password": "nope"},
        "LDAP base DN not found": {"ldap_base_dn": "dc=nowhere,dc=org"},
        "LDAP server unreachable": {"ldap_url": "ldap://127.0.0.1:1"},
        "LDAP TLS failure": {"ldap_url": slapd.tls_url, "ldap_verify_cert": True},
    }
    for reason, body in cases.items():
        r = admin.post("/ldap/ping", json=body)
        assert r.status_code == 200, r.text
        assert r.json()["success"] is False and r.json()["message"].startswith(reason), (
            body,
            r.json(),
        )
    tls = admin.post("/ldap/ping", json={"ldap_url": slapd.tls_url, "ldap_verify_cert": False})
    assert tls.json()["success"] is True, tls.text
    with as_user(server, "alice") as alice:
        assert alice.post("/ldap/ping", json={}).status_code == 403


def test_ldap_user_search_and_import(server, admin):
    found = admin.get("/ldap/users/search", params={"username": "jo(h)n*"}).json()
    assert found == [
        {"username": "jo(h)n*", "realname": "John Special", "email": "john@example.org"}
    ]
    assert admin.get("/ldap/users/search", params={"username": "*"}).json() == []
    everyone = admin.get("/ldap/users/search").json()
    assert {u["username"] for u in everyone} == set(USERS)
    r = admin.post("/ldap/users/import", json={"ldap_uid_list": ["erin", "ghost", "*"]})
    assert r.status_code == 404, r.text
    assert sorted(f["uid"] for f in r.json()) == ["*", "ghost"]
    assert [
        u["username"] for u in admin.get("/users/search", params={"username": "erin"}).json()
    ] == ["erin"]
    again = admin.post("/ldap/users/import", json={"ldap_uid_list": ["erin"]})
    assert again.status_code == 200, again.text
    assert again.content == b"" and "json" not in again.headers.get("Content-Type", "")
    with as_user(server, "alice") as alice:
        assert alice.get("/ldap/users/search").status_code == 403


def test_ldap_group_search(server, admin):
    by_name = admin.get("/ldap/groups/search", params={"groupname": "developers"}).json()
    assert by_name == [
        {"group_name": "developers", "group_type": 1, "ldap_group_dn": group_dn("developers")}
    ]
    by_dn = admin.get("/ldap/groups/search", params={"groupdn": group_dn("ops")}).json()
    assert [g["group_name"] for g in by_dn] == ["ops"]
    assert admin.get("/ldap/groups/search", params={"groupname": "*"}).json() == []
    assert (
        admin.get("/ldap/groups/search", params={"groupdn": f"cn=none,{GROUP_BASE_DN}"}).json()
        == []
    )


# ---------------------------------------------------------------------------- TLS
def test_login_over_ldaps_with_verification_off(server, admin, slapd):
    try:
        r = admin.put(
            "/configurations", json={"ldap_url": slapd.tls_url, "ldap_verify_cert": False}
        )
        assert r.status_code == 200, r.text
        with as_user(server, "bob") as bob:
            assert bob.get("/users/current").status_code == 200
        admin.put("/configurations", json={"ldap_verify_cert": True})
        with as_user(server, "jo(h)n*") as john:  # not cached under these settings
            r = john.get("/users/current")
            assert r.status_code == 401
            assert "TLS" in r.json()["errors"][0]["message"]
    finally:
        admin.put("/configurations", json={"ldap_url": slapd.url, "ldap_verify_cert": False})


def test_verification_on_succeeds_when_the_certificate_is_trusted(tmp_path, slapd):
    env = {"SSL_CERT_FILE": str(slapd.cert_path)}
    with (
        running_server(tmp_path, extra_env=env) as srv,
        ApiClient(srv.url, ("admin", ADMIN_PASSWORD)) as admin,
    ):
        config = slapd.ldap_config(url=slapd.tls_url, ldap_verify_cert=True)
        assert admin.put("/configurations", json=config).status_code == 200
        ping = admin.post("/ldap/ping", json={}).json()
        assert ping["success"] is True, ping
        with ApiClient(srv.url, ("alice", pw("alice"))) as alice:
            r = alice.get("/users/current")
            assert r.status_code == 200, r.text


# ---------------------------------------------------------------------------- outages
def test_slow_directory_fails_within_the_timeout_without_blocking_others(server, admin, slapd):
    """slapd frozen (accepts connections, never answers): 24 parallel logins all get a clear
    401 within about ldap_timeout, and the local admin is served meanwhile."""
    timeout = 2
    assert admin.put("/configurations", json={"ldap_timeout": timeout}).status_code == 200
    outcomes: list[tuple[requests.Response, float]] = []

    def login(name: str) -> None:
        started = time.monotonic()
        with ApiClient(server.url, (name, "Some-Pass1")) as client:
            response = client.get("/users/current")
        outcomes.append((response, time.monotonic() - started))

    slapd.pause()
    try:
        workers = [threading.Thread(target=login, args=(f"slow{i}",)) for i in range(24)]
        for worker in workers:
            worker.start()
        time.sleep(0.3)
        started = time.monotonic()
        assert admin.get("/users/current").status_code == 200  # not blocked meanwhile
        assert time.monotonic() - started < 1.5
        for worker in workers:
            worker.join(timeout=30)
    finally:
        slapd.resume()
        admin.put("/configurations", json={"ldap_timeout": 3})
    assert len(outcomes) == 24
    for response, seconds in outcomes:
        assert response.status_code == 401, response.text
        assert response.json()["errors"][0]["message"].startswith("LDAP server unreachable")
        assert seconds < 2 * timeout + 2.5


def test_stopped_directory_gives_a_clear_error_and_admin_still_works(server, admin, slapd):
    slapd.stop()
    try:
        started = time.monotonic()
        with ApiClient(server.url, ("bob", "Bob-Pass1-not-cached")) as bob:
            r = bob.get("/users/current")
        assert r.status_code == 401, r.text
        assert r.json()["errors"][0]["message"].startswith("LDAP server unreachable")
        assert time.monotonic() - started < 3
        v2 = requests.get(f"{server.url}/v2/", auth=("carol", "Carol-Pass1-x"), timeout=30)
        assert v2.status_code == 401
        portal = requests.post(
            f"{server.url}/c/login",
            timeout=30,
            data={"principal": "erin", "password": "Erin-Pass1-x"},
        )
        assert portal.status_code == 401, portal.text
        assert portal.json()["errors"][0]["message"].startswith("LDAP server unreachable")
        assert admin.get("/users/current").status_code == 200
        assert (
            admin.post("/ldap/ping", json={})
            .json()["message"]
            .startswith("LDAP server unreachable")
        )
    finally:
        slapd.start()
    with as_user(server, "alice") as alice:
        r = alice.get("/users/current")
        assert r.status_code == 200, r.text + slapd.log_tail()


def test_directory_outage_does_not_count_toward_the_login_throttle(server, admin, slapd):
    """Logins refused because the directory is down are not wrong passwords: once it is
    back, the same user signs in at once (no lock from the outage)."""
    # a timeout used nowhere else drops the verification cache: logins reach the directory
    assert admin.put("/configurations", json={"ldap_timeout": 7}).status_code == 200
    slapd.stop()
    try:
        for _ in range(8):
            with as_user(server, "frank") as frank:
                r = frank.get("/users/current")
            assert r.status_code == 401, r.text
            assert r.json()["errors"][0]["message"].startswith("LDAP server unreachable")
    finally:
        slapd.start()
        admin.put("/configurations", json={"ldap_timeout": 3})
    with as_user(server, "frank") as frank:
        r = frank.get("/users/current")
        assert r.status_code == 200, r.text


def test_ldap_group_member_by_dn_is_onboarded(server, admin):
    name = f"ldap-bydn-{uuid.uuid4().hex[:6]}"
    assert (
        admin.post(
            "/projects", json={"project_name": name, "metadata": {"public": "false"}}
        ).status_code
        == 201
    )
    missing = admin.post(
        f"/projects/{name}/members",
        json={
            "role_id": GUEST,
            "member_group": {"group_type": 1, "ldap_group_dn": f"cn=ghosts,{GROUP_BASE_DN}"},
        },
    )
    assert missing.status_code == 404, missing.text
    r = admin.post(
        f"/projects/{name}/members",
        json={
            "role_id": GUEST,
            "member_group": {"group_type": 1, "ldap_group_dn": group_dn("platform").upper()},
        },
    )
    assert r.status_code == 201, r.text
    again = admin.post(
        f"/projects/{name}/members",
        json={
            "role_id": GUEST,
            "member_group": {"group_type": 1, "ldap_group_dn": group_dn("platform")},
        },
    )
    assert again.status_code == 409, again.text
    listed = admin.get("/usergroups", params={"ldap_group_dn": group_dn("platform")}).json()
    assert [g["group_name"] for g in listed] == ["platform"]
    with as_user(server, "carol") as carol:
        assert role_in(carol, name) == GUEST


def test_podman_login_as_a_directory_user(server, tmp_path):
    podman = Podman(tmp_path / "podman")
    try:
        podman("login", "--tls-verify=false", "-u", "carol", "-p", pw("carol"), server.host)
        for user, password in [("*", pw("carol")), ("carol", "wrong")]:
            with pytest.raises(AssertionError):
                podman("login", "--tls-verify=false", "-u", user, "-p", password, server.host)
    finally:
        podman.cleanup()


def test_username_case_maps_to_one_local_user(server, admin):
    with as_user(server, "bob") as bob:
        assert bob.get("/users/current").json()["username"] == "bob"
    with ApiClient(server.url, ("BOB", pw("bob"))) as shouting:
        r = shouting.get("/users/current")
        assert r.status_code == 200 and r.json()["username"] == "bob"
    listed = admin.get("/users/search", params={"username": "bob"}).json()
    assert [u["username"] for u in listed] == ["bob"]


def test_harborapi_client_ldap_and_usergroup_calls(server):
    """The PyPI ``harborapi`` client's LDAP and user-group methods work unchanged."""
    from harborapi import HarborAsyncClient
    from harborapi.exceptions import NotFound
    from harborapi.models import LdapConf, UserGroup

    async def scenario() -> None:
        client = HarborAsyncClient(
            url=f"{server.url}/api/v2.0", username="admin", secret=ADMIN_PASSWORD
        )
        assert (await client.ping_ldap()).success is True
        bad = await client.ping_ldap(LdapConf(ldap_search_password="wrong"))
        assert bad.success is False and "credentials" in bad.message
        users = await client.search_ldap_users("alice")
        assert [(u.username, u.email) for u in users] == [("alice", "alice@example.org")]
        groups = await client.search_ldap_groups(group_name="guests")
        assert [g.ldap_group_dn for g in groups] == [group_dn("guests")]
        await client.import_ldap_users(["dave"])
        with pytest.raises(NotFound):
            await client.import_ldap_users(["nobody-at-all"])
        found = await client.get_usergroups(ldap_group_dn=group_dn("guests"))
        if not found:
            await client.create_usergroup(UserGroup(group_type=1, ldap_group_dn=group_dn("guests")))
            found = await client.get_usergroups(ldap_group_dn=group_dn("guests"))
        group = await client.get_usergroup(found[0].id)
        assert group.group_name and group.ldap_group_dn == group_dn("guests")
        hits = await client.search_usergroups(group.group_name)
        assert group.id in [h.id for h in hits]

    asyncio.run(scenario())


def token_actions(server, creds: tuple[str, str], scope: str) -> list[str]:
    r = requests.get(
        f"{server.url}/service/token",
        auth=creds,
        timeout=30,
        params={"service": "harbor-registry", "scope": scope},
    )
    assert r.status_code == 200, r.text
    claims = jwt.decode(r.json()["token"], options={"verify_signature": False})
    return claims["access"][0]["actions"] if claims["access"] else []


def test_token_service_grants_by_group_role(server, admin):
    dev = project_with_group(admin, "developers", DEVELOPER)
    guest = project_with_group(admin, "guests", GUEST)
    carol, bob = ("carol", pw("carol")), ("bob", pw("bob"))
    assert token_actions(server, carol, f"repository:{dev}/app:pull,push") == ["pull", "push"]
    assert token_actions(server, bob, f"repository:{guest}/app:pull,push") == ["pull"]
    assert token_actions(server, bob, f"repository:{dev}/app:pull,push") == []
    r = requests.get(
        f"{server.url}/service/token",
        auth=("*", pw("carol")),
        timeout=30,
        params={"service": "harbor-registry", "scope": f"repository:{dev}/a:pull"},
    )
    assert r.status_code == 401


def test_search_scope_limits_who_can_sign_in(server, admin):
    try:
        r = admin.put("/configurations", json={"ldap_base_dn": PEOPLE["eng"], "ldap_scope": 1})
        assert r.status_code == 200, r.text
        with as_user(server, "erin") as erin:  # ou=people,ou=eng: one level below the base
            assert erin.get("/users/current").status_code == 200
        with as_user(server, "frank") as frank:  # ou=people,ou=sales: outside the base
            assert frank.get("/users/current").status_code == 401
        assert admin.put("/configurations", json={"ldap_scope": 0}).status_code == 200
        with as_user(server, "erin") as erin:  # base scope: only the base entry itself
            assert erin.get("/users/current").status_code == 401
    finally:
        admin.put("/configurations", json={"ldap_base_dn": BASE_DN, "ldap_scope": 2})


def test_directory_users_are_stored_with_their_source_and_dn(server):
    with as_user(server, "jo(h)n*") as john:
        user_id = john.get("/users/current").json()["user_id"]
    url = server.database_url or f"sqlite:///{server.data_dir / 'harbor.db'}"
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                sqlalchemy.text(
                    "SELECT auth_source, ldap_dn, password_hash FROM users WHERE id = :id"
                ),
                {"id": user_id},
            ).one()
    finally:
        engine.dispose()
    assert tuple(row) == ("ldap", USERS["jo(h)n*"].dn, "")  # no local password to guess
