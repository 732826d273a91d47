"""Response bodies shaped as Harbor's: its timestamp format, no empty optional strings, and
null (not ``[]``) for an artifact without accessories."""

import re

import pytest

from tests.conftest import unique

pytestmark = pytest.mark.api

# Go's strfmt.DateTime as Harbor marshals it (RFC 3339, milliseconds, UTC as "Z")
HARBOR_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _harbor_times(body: dict, *keys: str) -> None:
    for key in keys:
        assert HARBOR_TIME.match(body[key] or ""), (key, body[key])


def test_timestamps_in_harbors_format(admin_client, project, pusher, new_user):
    pusher.image(f"{project}/app", "v1")
    _harbor_times(
        admin_client.get(f"/projects/{project}", headers={"X-Is-Resource-Name": "true"}).json(),
        "creation_time",
        "update_time",
    )
    _harbor_times(
        admin_client.get(f"/projects/{project}/repositories/app").json(),
        "creation_time",
        "update_time",
    )
    artifact = admin_client.get(f"/projects/{project}/repositories/app/artifacts/v1").json()
    _harbor_times(artifact, "push_time")
    _harbor_times(artifact["tags"][0], "push_time")
    user_id = new_user()[0]
    _harbor_times(admin_client.get(f"/users/{user_id}").json(), "creation_time", "update_time")
    _harbor_times(
        admin_client.get("/users", params={"page_size": 1}).json()[0],
        "creation_time",
        "update_time",
    )
    r = admin_client.post("/labels", json={"name": unique("l"), "scope": "g"})
    label = admin_client.get(r.headers["Location"].replace("/api/v2.0", "")).json()
    try:
        _harbor_times(label, "creation_time", "update_time")
    finally:
        admin_client.delete(f"/labels/{label['id']}")
    _harbor_times(admin_client.get("/audit-logs", params={"page_size": 1}).json()[0], "op_time")
    _harbor_times(
        admin_client.get("/projects", params={"name": project}).json()[0],
        "creation_time",
        "update_time",
    )
    _harbor_times(admin_client.get("/systeminfo").json(), "current_time")


def test_no_empty_optional_strings(admin_client, project, pusher, new_user):
    pusher.image(f"{project}/app", "v1")
    artifact = admin_client.get(f"/projects/{project}/repositories/app/artifacts/v1").json()
    assert "icon" not in artifact
    user_id = new_user()[0]
    user = admin_client.get(f"/users/{user_id}").json()
    assert "comment" not in user and user["email"] and user["realname"]


def test_artifact_without_accessories(admin_client, project, pusher):
    pusher.image(f"{project}/app", "v1")
    base = f"/projects/{project}/repositories/app/artifacts"
    one = admin_client.get(f"{base}/v1", params={"with_accessory": "true"}).json()
    listed = admin_client.get(base, params={"with_accessory": "true"}).json()[0]
    for artifact in (one, listed):
        assert artifact.get("accessories") is None
