"""Browser sessions: /c/login cookies, CSRF on cookie-authenticated writes, /c/log_out."""

import hashlib

import pytest
import requests

from tests.conftest import unique
from tests.support.servers import ADMIN_PASSWORD, running_server

pytestmark = pytest.mark.api


def _login(server, username="admin", password=ADMIN_PASSWORD) -> requests.Session:
    browser = requests.Session()
    r = browser.post(f"{server.url}/c/login", data={"principal": username, "password": password})
    assert r.status_code == 200, r.text
    return browser


def test_login_sets_cookies(server):
    r = requests.post(
        f"{server.url}/c/login", data={"principal": "admin", "password": ADMIN_PASSWORD}
    )
    assert r.status_code == 200
    cookies = r.headers["Set-Cookie"]
    sid = r.cookies["sid"]
    assert len(sid) >= 32
    assert f"sid={sid}" in cookies
    sid_cookie = next(c for c in r.raw.headers.getlist("Set-Cookie") if c.startswith("sid="))
    csrf_cookie = next(c for c in r.raw.headers.getlist("Set-Cookie") if c.startswith("__csrf="))
    assert "HttpOnly" in sid_cookie and "Path=/" in sid_cookie
    assert "SameSite=Lax" in sid_cookie and "SameSite=Lax" in csrf_cookie
    assert "HttpOnly" not in csrf_cookie
    assert r.cookies["__csrf"] == r.headers["X-Harbor-CSRF-Token"]


def test_session_token_stored_hashed(server):
    from sqlalchemy import select

    from harbor_api.db.models import LoginSession
    from harbor_api.db.session import Database

    browser = _login(server)
    token = browser.cookies["sid"]
    db = Database(server.database_url or f"sqlite:///{server.data_dir / 'harbor.db'}")
    try:
        with db.read() as s:
            ids = s.scalars(select(LoginSession.id)).all()
    finally:
        db.dispose()
    assert hashlib.sha256(token.encode()).hexdigest() in ids
    assert token not in ids


def test_session_reads_and_csrf_on_writes(server):
    browser = _login(server)
    api = f"{server.url}/api/v2.0"
    me = browser.get(f"{api}/users/current")
    assert me.status_code == 200 and me.json()["username"] == "admin"
    name = unique("csrf")
    r = browser.post(f"{api}/projects", json={"project_name": name})
    assert r.status_code == 403 and r.json()["errors"][0]["code"] == "FORBIDDEN"
    r = browser.post(
        f"{api}/projects", json={"project_name": name}, headers={"X-Harbor-CSRF-Token": "wrong"}
    )
    assert r.status_code == 403
    assert browser.head(f"{api}/projects", params={"project_name": name}).status_code == 404
    token = browser.cookies["__csrf"]
    r = browser.post(
        f"{api}/projects", json={"project_name": name}, headers={"X-Harbor-CSRF-Token": token}
    )
    assert r.status_code == 201, r.text
    assert (
        browser.delete(f"{api}/projects/{name}", headers={"X-Harbor-CSRF-Token": token}).status_code
        == 200
    )


def test_relogin_with_stale_cookie(server):
    browser = _login(server)
    r = browser.post(
        f"{server.url}/c/login", data={"principal": "admin", "password": ADMIN_PASSWORD}
    )
    assert r.status_code == 200


def test_failed_logins(server):
    for data in (
        {"principal": "admin", "password": "wrong"},
        {"principal": "nobody", "password": "Passw0rd!x"},
        {"principal": "", "password": ""},
    ):
        r = requests.post(f"{server.url}/c/login", data=data)
        assert r.status_code in (400, 401), r.text
        assert r.json()["errors"][0]["code"] in ("UNAUTHORIZED", "BAD_REQUEST")
        assert "sid" not in r.cookies
    r = requests.post(f"{server.url}/c/login", data={"principal": "admin", "password": "x"})
    assert r.status_code == 401 and r.json()["errors"][0]["code"] == "UNAUTHORIZED"
    r = requests.post(f"{server.url}/c/login", data={"principal": "admin"})
    assert r.status_code == 400


def test_logout_ends_session(server):
    browser = _login(server)
    api = f"{server.url}/api/v2.0"
    stolen = dict(browser.cookies)
    r = browser.get(f"{server.url}/c/log_out")
    assert r.status_code == 200
    assert "sid" not in browser.cookies
    replay = requests.get(f"{api}/users/current", cookies=stolen)
    assert replay.status_code == 401
    assert requests.get(f"{server.url}/c/log_out").status_code == 200  # idempotent


def test_ordinary_user_session(server, new_user):
    _, name, password, _ = new_user()
    browser = _login(server, name, password)
    r = browser.get(f"{server.url}/api/v2.0/users/current")
    assert r.json()["username"] == name
    assert browser.get(f"{server.url}/api/v2.0/users").status_code == 403


def test_password_change_ends_the_users_other_sessions(server, admin_client, new_user):
    user_id, name, password, _ = new_user()
    me = f"{server.url}/api/v2.0/users/current"
    stolen, own = _login(server, name, password), _login(server, name, password)
    r = own.put(
        f"{server.url}/api/v2.0/users/{user_id}/password",
        json={"old_password": password, "new_password": "Fresh-Pass12"},
        headers={"X-Harbor-CSRF-Token": own.cookies["__csrf"]},
    )
    assert r.status_code == 200, r.text
    assert stolen.get(me).status_code == 401  # the other cookie is worthless now
    assert own.get(me).status_code == 200  # the session that changed it stays
    again = _login(server, name, "Fresh-Pass12")
    r = admin_client.put(f"/users/{user_id}/password", json={"new_password": "Admin-Set-12"})
    assert r.status_code == 200, r.text
    assert again.get(me).status_code == 401 and own.get(me).status_code == 401


def test_cookies_are_secure_behind_an_https_external_url(tmp_path):
    """TLS ended by a proxy: the request arrives as http, the browser talks https."""
    with running_server(
        tmp_path, extra_env={"HARBOR_EXTERNAL_URL": "https://registry.example.com"}
    ) as srv:
        r = requests.post(
            f"{srv.url}/c/login",
            timeout=30,
            data={"principal": "admin", "password": ADMIN_PASSWORD},
        )
        assert r.status_code == 200, r.text
        cookies = r.raw.headers.getlist("Set-Cookie")
        assert len(cookies) == 2 and all("; Secure" in c for c in cookies), cookies


def test_cookie_authenticated_registry_writes_need_the_csrf_token(server, project):
    """The session cookie works on /v2/ too, so its writes need the CSRF header as well."""
    browser = _login(server)
    uploads = f"{server.url}/v2/{project}/app/blobs/uploads/"
    r = browser.post(uploads)
    assert r.status_code == 403 and r.json()["errors"][0]["code"] == "DENIED", r.text
    assert browser.get(f"{server.url}/v2/{project}/app/tags/list").status_code in (200, 404)
    r = browser.post(uploads, headers={"X-Harbor-CSRF-Token": browser.cookies["__csrf"]})
    assert r.status_code == 202, r.text


def test_logout_by_post_needs_the_csrf_token(server):
    """POST /c/log_out ends the session like Harbor's GET, but a cross-site form cannot
    send it: a cookie-authenticated POST needs the X-Harbor-CSRF-Token header."""
    browser = _login(server)
    api = f"{server.url}/api/v2.0"
    csrf = browser.cookies["__csrf"]
    refused = browser.post(f"{server.url}/c/log_out")
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "FORBIDDEN"
    assert browser.get(f"{api}/users/current").status_code == 200  # still signed in
    stolen = dict(browser.cookies)
    r = browser.post(f"{server.url}/c/log_out", headers={"X-Harbor-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    assert "sid" not in browser.cookies
    assert requests.get(f"{api}/users/current", cookies=stolen).status_code == 401
    assert requests.post(f"{server.url}/c/log_out").status_code == 200  # idempotent


@pytest.mark.parametrize(
    "extra", [{"redirect_url": "/harbor/projects"}, {"remember": "on", "lang": "en-us"}]
)
def test_login_ignores_unknown_form_fields(server, extra):
    """Harbor reads principal and password and ignores anything else a form sends."""
    browser = requests.Session()
    r = browser.post(
        f"{server.url}/c/login", data={"principal": "admin", "password": ADMIN_PASSWORD, **extra}
    )
    assert r.status_code == 200, r.text
    assert browser.get(f"{server.url}/api/v2.0/users/current").json()["username"] == "admin"
