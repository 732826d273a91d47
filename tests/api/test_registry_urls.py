"""A registry endpoint's URL is the client's input: a malformed one is a 400 that says
why, on create, update and ping alike, never a 500."""

from __future__ import annotations

import pytest

from tests.conftest import unique

pytestmark = pytest.mark.api

MALFORMED = ["http://[::1", "http://[::1]x", "https://]", "http://[zz::1]/"]


@pytest.mark.parametrize("url", MALFORMED)
def test_a_malformed_url_is_a_400(admin_client, url):
    r = admin_client.post("/registries/ping", json={"url": url, "type": "docker-registry"})
    assert r.status_code == 400, r.text
    assert "invalid url" in r.json()["errors"][0]["message"]
    r = admin_client.post(
        "/registries", json={"name": unique("bad"), "url": url, "type": "docker-registry"}
    )
    assert r.status_code == 400, r.text
    assert "invalid url" in r.json()["errors"][0]["message"]


def test_a_malformed_url_on_update_is_a_400(admin_client):
    r = admin_client.post(
        "/registries",
        json={"name": unique("ok"), "url": "http://127.0.0.1:1", "type": "docker-registry"},
    )
    assert r.status_code == 201, r.text
    registry_id = int(r.headers["Location"].rsplit("/", 1)[1])
    try:
        r = admin_client.put(f"/registries/{registry_id}", json={"url": MALFORMED[0]})
        assert r.status_code == 400, r.text
        r = admin_client.post("/registries/ping", json={"id": registry_id, "url": MALFORMED[0]})
        assert r.status_code == 400, r.text
    finally:
        admin_client.delete(f"/registries/{registry_id}")
