"""System endpoints: ping, health, systeminfo, request ids, error envelope."""

import pytest

pytestmark = pytest.mark.api


def test_ping(anon_client):
    r = anon_client.get("/ping")
    assert r.status_code == 200 and r.text == "Pong"


def test_request_id_echoed_and_generated(anon_client):
    assert (
        anon_client.get("/ping", headers={"X-Request-Id": "abc-123"}).headers["X-Request-Id"]
        == "abc-123"
    )
    assert len(anon_client.get("/ping").headers["X-Request-Id"]) >= 16


def test_health_reports_components(anon_client):
    body = anon_client.get("/health").json()
    assert body["status"] == "healthy"
    assert {c["name"] for c in body["components"]} >= {"core", "database"}


def test_systeminfo_anonymous_hides_urls(anon_client, admin_client):
    anon = anon_client.get("/systeminfo").json()
    assert anon["auth_mode"] == "db_auth" and "external_url" not in anon
    full = admin_client.get("/systeminfo").json()
    assert full["external_url"].startswith("http") and full["registry_url"]


def test_unknown_path_is_harbor_error(anon_client):
    r = anon_client.get("/no-such-thing")
    assert r.status_code == 404
    assert r.json()["errors"][0]["code"] == "NOT_FOUND"


def test_bad_credentials_rejected(server):
    from tests.support.clients import ApiClient

    r = ApiClient(server.url, ("admin", "wrong")).get("/systeminfo")
    assert r.status_code == 401 and r.json()["errors"][0]["code"] == "UNAUTHORIZED"


def test_systeminfo_reports_a_harbor_version_clients_can_compare(anon_client):
    """``harbor_version`` reads like Harbor's (``v<major>.<minor>.<patch>-<build>``) at the
    Harbor API level implemented; the product's own version is ``harbor_api_version``.
    Notary and ChartMuseum are gone from Harbor, and so are their flags."""
    import re

    from harbor_api import __version__

    info = anon_client.get("/systeminfo").json()
    match = re.fullmatch(r"v(\d+)\.(\d+)\.(\d+)-([0-9A-Za-z-]+)", info["harbor_version"])
    assert match, info["harbor_version"]
    assert tuple(int(g) for g in match.groups()[:3]) >= (2, 11, 0)
    assert info["harbor_api_version"] == __version__
    assert "with_notary" not in info and "with_chartmuseum" not in info
