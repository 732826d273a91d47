"""Review finding (low): answers carrying a secret (a registry token, a robot's secret) say
nothing about caching: a shared proxy or the browser's cache may keep them. RFC 6749 §5.1
(token responses) asks for ``Cache-Control: no-store``."""

import pytest

from tests.conftest import unique
from tests.support.servers import ADMIN_PASSWORD
from tests.support.tokens import fetch_token

pytestmark = pytest.mark.api


def test_token_answers_are_not_stored(server):
    r = fetch_token(server.url, "repository:library/x:pull", auth=("admin", ADMIN_PASSWORD))
    assert r.status_code == 200
    assert "no-store" in r.headers.get("Cache-Control", ""), dict(r.headers)


def test_a_new_robot_secret_is_not_stored(admin_client, project):
    r = admin_client.post(
        "/robots",
        json={
            "name": unique("bot"),
            "level": "project",
            "duration": -1,
            "permissions": [
                {
                    "kind": "project",
                    "namespace": project,
                    "access": [{"resource": "repository", "action": "pull"}],
                }
            ],
        },
    )
    assert r.status_code == 201, r.text
    try:
        assert "no-store" in r.headers.get("Cache-Control", ""), dict(r.headers)
    finally:
        admin_client.delete(f"/robots/{r.json()['id']}")


def test_a_refreshed_robot_secret_and_a_login_are_not_stored(server, admin_client, project):
    import requests

    r = admin_client.post(
        "/robots",
        json={
            "name": unique("bot"),
            "level": "project",
            "duration": -1,
            "permissions": [
                {
                    "kind": "project",
                    "namespace": project,
                    "access": [{"resource": "repository", "action": "pull"}],
                }
            ],
        },
    )
    assert r.status_code == 201, r.text
    try:
        refreshed = admin_client.patch(f"/robots/{r.json()['id']}", json={})
        assert refreshed.status_code == 200, refreshed.text
        assert "no-store" in refreshed.headers.get("Cache-Control", ""), dict(refreshed.headers)
    finally:
        admin_client.delete(f"/robots/{r.json()['id']}")
    login = requests.post(
        f"{server.url}/c/login", timeout=30, data={"principal": "admin", "password": ADMIN_PASSWORD}
    )
    assert login.status_code == 200, login.text
    assert login.headers.get("Cache-Control") == "no-store", dict(login.headers)
    assert login.headers.get("Pragma") == "no-cache"
