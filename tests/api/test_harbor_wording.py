"""Error bodies as Harbor writes them: compact JSON and Harbor's messages, so that clients
and scripts matching substrings of Harbor's bodies work here too."""

import json

import pytest

from tests.conftest import unique

pytestmark = pytest.mark.api

DIGEST = "sha256:" + "0" * 64


def _body(code: str, message: str) -> str:
    return '{"errors":[{"code":"' + code + '","message":' + json.dumps(message) + "}]}"


def _exactly(response, status: int, code: str, message: str) -> None:
    assert response.status_code == status, response.text
    assert response.text.rstrip("\n") == _body(code, message)


def test_error_bodies_are_compact(admin_client, anon_client):
    r = admin_client.get("/projects", params={"page": "x"})
    assert r.status_code == 400
    assert r.text.startswith('{"errors":[{"code":"BAD_REQUEST","message":')
    r = anon_client.get("/users")
    assert r.text.startswith('{"errors":[{"code":"UNAUTHORIZED","message":')


def test_success_bodies_are_compact(admin_client, project):
    for path in ("/projects", f"/projects/{project}", "/systeminfo", "/configurations"):
        r = admin_client.get(path, headers={"X-Is-Resource-Name": "true"})
        assert r.status_code == 200, r.text
        assert r.text.rstrip("\n") == json.dumps(
            r.json(), separators=(",", ":"), ensure_ascii=False
        ), path


def test_registry_bodies_are_compact(admin_client, project, pusher):
    pusher.image(f"{project}/app", "v1")
    r = admin_client.get(f"/v2/{project}/app/tags/list")
    assert r.status_code == 200 and r.text == '{"name":"' + project + '/app","tags":["v1"]}'
    r = admin_client.get(f"/v2/{project}/app/manifests/nope")
    assert r.status_code == 404 and r.text.startswith('{"errors":[{"code":"MANIFEST_UNKNOWN",')


def test_unauthorized_and_forbidden(anon_client, new_user):
    _exactly(anon_client.get("/users"), 401, "UNAUTHORIZED", "unauthorized")
    _exactly(anon_client.get("/configurations"), 401, "UNAUTHORIZED", "unauthorized")
    _, _, _, client = new_user()
    _exactly(client.get("/users"), 403, "FORBIDDEN", "forbidden")
    _exactly(
        client.put("/configurations", json={"token_expiration": 9}), 403, "FORBIDDEN", "forbidden"
    )


def test_project_creation_restricted(admin_client, new_user):
    _, _, _, client = new_user()
    assert (
        admin_client.put(
            "/configurations", json={"project_creation_restriction": "adminonly"}
        ).status_code
        == 200
    )
    try:
        _exactly(
            client.post("/projects", json={"project_name": unique("p")}),
            403,
            "FORBIDDEN",
            "Only system admin can create project",
        )
    finally:
        admin_client.put("/configurations", json={"project_creation_restriction": "everyone"})


def test_users(admin_client, new_user):
    user_id, name, password, client = new_user()
    _exactly(admin_client.get("/users/999999"), 404, "NOT_FOUND", "user 999999 not found")
    _exactly(client.get("/users/1"), 403, "FORBIDDEN", "Not authorized to read user: 1")
    r = admin_client.post(
        "/users",
        json={
            "username": name,
            "email": f"{name}@example.com",
            "realname": "x",
            "password": "Passw0rd!x",
        },
    )
    _exactly(r, 409, "CONFLICT", f"user {name} or email {name}@example.com already exists")
    me = admin_client.get("/users/current").json()["user_id"]
    _exactly(
        admin_client.delete(f"/users/{me}"),
        403,
        "FORBIDDEN",
        f"User with ID {me} cannot be deleted",
    )
    r = client.put(
        f"/users/{user_id}/password",
        json={"old_password": "Wr0ngPassword", "new_password": "Passw0rd!new"},
    )
    _exactly(r, 403, "FORBIDDEN", "Current password is incorrect")
    r = client.put(
        f"/users/{user_id}/password", json={"old_password": password, "new_password": password}
    )
    _exactly(r, 400, "BAD_REQUEST", "New password is identical to old password")


def test_projects_members_labels_robots(admin_client, project):
    _exactly(
        admin_client.post("/projects", json={"project_name": project}),
        409,
        "CONFLICT",
        f"The project named {project} already exists",
    )
    missing = unique("missing")
    _exactly(
        admin_client.get(f"/projects/{missing}", headers={"X-Is-Resource-Name": "true"}),
        404,
        "NOT_FOUND",
        f"project {missing} not found",
    )
    members = f"/projects/{project}/members"
    _exactly(
        admin_client.post(members, json={"role_id": 2, "member_user": {"username": "nobody-here"}}),
        404,
        "NOT_FOUND",
        "user nobody-here not found",
    )
    _exactly(
        admin_client.post(members, json={"role_id": 2, "member_user": {"username": "admin"}}),
        409,
        "CONFLICT",
        "The project member specified already exist",
    )
    project_id = admin_client.get(
        f"/projects/{project}", headers={"X-Is-Resource-Name": "true"}
    ).json()["project_id"]
    _exactly(
        admin_client.get(f"{members}/999999"),
        404,
        "NOT_FOUND",
        f"the project member is not found, project id {project_id}, member id 999999",
    )
    _exactly(admin_client.get("/labels/999999"), 404, "NOT_FOUND", "label 999999 not found")
    _exactly(admin_client.get("/robots/999999"), 404, "NOT_FOUND", "robot 999999 not found")


def test_repositories_artifacts_tags(admin_client, project, pusher):
    img = pusher.image(f"{project}/app", "v1")
    base = f"/projects/{project}/repositories"
    _exactly(
        admin_client.get(f"{base}/nope"), 404, "NOT_FOUND", f"repository {project}/nope not found"
    )
    _exactly(
        admin_client.get(f"{base}/app/artifacts/v9"),
        404,
        "NOT_FOUND",
        f"artifact {project}/app:v9 not found",
    )
    _exactly(
        admin_client.get(f"{base}/app/artifacts/{DIGEST}"),
        404,
        "NOT_FOUND",
        f"artifact {project}/app@{DIGEST} not found",
    )
    artifact_id = admin_client.get(f"{base}/app/artifacts/v1").json()["id"]
    _exactly(
        admin_client.delete(f"{base}/app/artifacts/{img.digest}/tags/v9"),
        404,
        "NOT_FOUND",
        f"tag v9 attached to artifact {artifact_id} not found",
    )
