"""``/system/CVEAllowlist``: Harbor's system allowlist (project 0), stored and returned; any
signed-in user reads it, system admins change it; project allowlists stay apart."""

from __future__ import annotations

import pytest

from tests.conftest import unique

pytestmark = pytest.mark.api


def test_system_allowlist_is_stored_and_returned(admin_client):
    r = admin_client.put(
        "/system/CVEAllowlist",
        json={
            "items": [
                {"cve_id": " CVE-2019-10164 "},
                {"cve_id": "CVE-2021-44228"},
                {"cve_id": "CVE-2019-10164"},
            ],
            "expires_at": 1893456000,
        },
    )
    assert r.status_code == 200, r.text
    got = admin_client.get("/system/CVEAllowlist").json()
    assert got["project_id"] == 0 and got["expires_at"] == 1893456000
    assert got["items"] == [{"cve_id": "CVE-2019-10164"}, {"cve_id": "CVE-2021-44228"}]
    assert got["creation_time"].endswith("Z") and got["update_time"]
    r = admin_client.put("/system/CVEAllowlist", json={"items": [], "expires_at": None})
    assert r.status_code == 200
    again = admin_client.get("/system/CVEAllowlist").json()
    assert again["id"] == got["id"] and again["items"] == [] and "expires_at" not in again


def test_project_allowlists_stay_apart(admin_client):
    admin_client.put("/system/CVEAllowlist", json={"items": [{"cve_id": "CVE-2000-0001"}]})
    name = unique("cvep")
    r = admin_client.post(
        "/projects",
        json={"project_name": name, "cve_allowlist": {"items": [{"cve_id": "CVE-2000-0002"}]}},
    )
    assert r.status_code == 201, r.text
    try:
        project = admin_client.get(f"/projects/{name}").json()
        assert project["cve_allowlist"]["items"] == [{"cve_id": "CVE-2000-0002"}]
        system = admin_client.get("/system/CVEAllowlist").json()
        assert system["items"] == [{"cve_id": "CVE-2000-0001"}] and system["project_id"] == 0
    finally:
        admin_client.delete(f"/projects/{name}")


@pytest.mark.parametrize(
    "body",
    [
        {"items": [{"cve_id": ""}]},
        {"items": [{}]},
        {"expires_at": -5, "items": []},
        {"expires_at": 2**63, "items": []},
        {"project_id": 7, "items": []},
    ],
)
def test_bad_allowlists_are_refused(admin_client, body):
    r = admin_client.put("/system/CVEAllowlist", json=body)
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "BAD_REQUEST", r.text


def test_permissions(anon_client, new_user):
    assert anon_client.get("/system/CVEAllowlist").status_code == 401
    assert anon_client.put("/system/CVEAllowlist", json={"items": []}).status_code == 401
    _, _, _, user = new_user()
    assert user.get("/system/CVEAllowlist").status_code == 200
    r = user.put("/system/CVEAllowlist", json={"items": []})
    assert r.status_code == 403 and r.json()["errors"][0]["code"] == "FORBIDDEN"
