"""Statistics scoped to the caller."""

import pytest

pytestmark = pytest.mark.api


def test_admin_sees_totals(admin_client, project, pusher):
    before = admin_client.get("/statistics").json()
    pusher.image(f"{project}/stats", "v1")
    after = admin_client.get("/statistics").json()
    assert after["private_repo_count"] == before["private_repo_count"] + 1
    assert after["total_repo_count"] == before["total_repo_count"] + 1
    assert after["total_project_count"] == (
        after["public_project_count"] + after["private_project_count"]
    )
    assert after["total_storage_consumption"] > before["total_storage_consumption"]


def test_user_sees_only_own_counts(admin_client, project, pusher, new_user):
    pusher.image(f"{project}/stats2", "v1")
    user_id, username, _, client = new_user()
    stats = client.get("/statistics").json()
    assert stats["private_project_count"] == 0 and "total_project_count" not in stats
    assert stats["public_project_count"] >= 1
    r = admin_client.post(
        f"/projects/{project}/members", json={"role_id": 3, "member_user": {"username": username}}
    )
    assert r.status_code == 201, r.text
    stats = client.get("/statistics").json()
    assert stats["private_project_count"] == 1 and stats["private_repo_count"] == 1


def test_anonymous_gets_401(anon_client):
    assert anon_client.get("/statistics").status_code == 401
