"""Who sets a project's storage limit: system administrators only. A user creating a
project gets the configured default (``storage_per_project``), whatever ``storage_limit``
the request claims, as in Harbor; a change later is ``quota:update`` (test_quotas)."""

from __future__ import annotations

import pytest

from tests.conftest import unique

pytestmark = pytest.mark.api

DEFAULT = 10 * 1024 * 1024


@pytest.fixture
def limited_default(admin_client):
    before = admin_client.get("/configurations").json()["storage_per_project"]["value"]
    r = admin_client.put("/configurations", json={"storage_per_project": DEFAULT})
    assert r.status_code == 200, r.text
    yield DEFAULT
    admin_client.put("/configurations", json={"storage_per_project": before})


def _hard_limit(admin_client, name: str) -> int:
    project_id = admin_client.get(f"/projects/{name}").json()["project_id"]
    quotas = admin_client.get(
        "/quotas", params={"reference": "project", "reference_id": str(project_id)}
    ).json()
    return quotas[0]["hard"]["storage"]


@pytest.mark.parametrize("claimed", [-1, 10 * DEFAULT])
def test_a_user_cannot_choose_the_storage_limit_of_a_new_project(
    admin_client, new_user, limited_default, claimed
):
    _, _, _, user = new_user()
    name = unique("own")
    r = user.post("/projects", json={"project_name": name, "storage_limit": claimed})
    assert r.status_code == 201, r.text
    try:
        assert _hard_limit(admin_client, name) == limited_default
    finally:
        admin_client.delete(f"/projects/{name}", headers={"X-Is-Resource-Name": "true"})


def test_a_system_admin_still_chooses_it(admin_client, limited_default):
    name = unique("own")
    r = admin_client.post("/projects", json={"project_name": name, "storage_limit": -1})
    assert r.status_code == 201, r.text
    try:
        assert _hard_limit(admin_client, name) == -1
    finally:
        admin_client.delete(f"/projects/{name}", headers={"X-Is-Resource-Name": "true"})


def test_a_copied_artifact_counts_toward_the_target_quota(admin_client, pusher, project):
    """Copying moves no bytes but adds them to the target project's usage, as a push does:
    a copy past the limit is refused, not a way around it."""
    image = pusher.image(f"{project}/big", "v1", layer=b"x" * 64 * 1024)
    target = unique("small")
    r = admin_client.post("/projects", json={"project_name": target, "storage_limit": 16 * 1024})
    assert r.status_code == 201, r.text
    try:
        r = admin_client.post(
            f"/projects/{target}/repositories/copy/artifacts",
            params={"from": f"{project}/big@{image.digest}"},
        )
        assert r.status_code == 403, r.text
        assert "exceed the configured upper limit" in r.json()["errors"][0]["message"]
        assert admin_client.get(f"/projects/{target}/repositories").json() == []
        admin_client.put(
            f"/projects/{target}",
            json={"storage_limit": 1024 * 1024},
            headers={"X-Is-Resource-Name": "true"},
        )
        r = admin_client.post(
            f"/projects/{target}/repositories/copy/artifacts",
            params={"from": f"{project}/big@{image.digest}"},
        )
        assert r.status_code == 201, r.text
        assert _used(admin_client, target) == image.size
    finally:
        admin_client.delete(f"/projects/{target}/repositories/copy")
        admin_client.delete(f"/projects/{target}", headers={"X-Is-Resource-Name": "true"})
    admin_client.delete(f"/projects/{project}/repositories/big")


def _used(admin_client, name: str) -> int:
    project_id = admin_client.get(f"/projects/{name}").json()["project_id"]
    quotas = admin_client.get(
        "/quotas", params={"reference": "project", "reference_id": str(project_id)}
    ).json()
    return quotas[0]["used"]["storage"]
