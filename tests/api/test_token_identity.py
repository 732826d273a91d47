"""Registry tokens are bound to the account they were issued to, not to its name: deleting,
disabling or replacing the account (or changing its secret) ends its tokens at once."""

from __future__ import annotations

import pytest
import requests

from tests.conftest import unique
from tests.support.push import Pusher
from tests.support.tokens import bearer, claims_of, token_for

pytestmark = pytest.mark.api

DEVELOPER = 2


def pull_and_push(server, repository: str, token: str) -> tuple[int, int]:
    """(status of a manifest pull, status of starting a blob upload) with ``token``."""
    pull = requests.get(
        f"{server.url}/v2/{repository}/manifests/v1", headers=bearer(token), timeout=30
    )
    push = requests.post(
        f"{server.url}/v2/{repository}/blobs/uploads/", headers=bearer(token), timeout=30
    )
    return pull.status_code, push.status_code


@pytest.fixture
def image(server, project):
    Pusher(server.url).image(f"{project}/app", "v1")
    return f"{project}/app"


def make_user(admin_client, name: str, password: str) -> int:
    r = admin_client.post(
        "/users",
        json={
            "username": name,
            "email": f"{name}@example.com",
            "realname": name,
            "password": password,
        },
    )
    assert r.status_code == 201, r.text
    return int(r.headers["Location"].rsplit("/", 1)[1])


def test_user_token_dies_with_the_user_even_if_the_name_comes_back(server, admin_client, image):
    project = image.split("/")[0]
    name, password = unique("tok"), "Passw0rd-same-twice"
    user_id = make_user(admin_client, name, password)
    r = admin_client.post(
        f"/projects/{project}/members",
        json={"role_id": DEVELOPER, "member_user": {"username": name}},
    )
    assert r.status_code == 201, r.text
    token = token_for(server.url, f"repository:{image}:pull,push", auth=(name, password))
    assert claims_of(token)["access"][0]["actions"] == ["pull", "push"]
    assert pull_and_push(server, image, token) == (200, 202)

    assert admin_client.delete(f"/users/{user_id}").status_code == 200
    assert pull_and_push(server, image, token) == (401, 401)
    # the same name and password again: a new account, not the old one's rights
    new_id = make_user(admin_client, name, password)
    try:
        assert pull_and_push(server, image, token) == (401, 401)
        fresh = token_for(server.url, f"repository:{image}:pull,push", auth=(name, password))
        assert claims_of(fresh)["access"] == []  # the new account is no member
    finally:
        admin_client.delete(f"/users/{new_id}")


def test_user_token_dies_with_a_password_or_role_change(server, admin_client, image, new_user):
    project = image.split("/")[0]
    user_id, name, password, _ = new_user()
    r = admin_client.post(
        f"/projects/{project}/members",
        json={"role_id": DEVELOPER, "member_user": {"username": name}},
    )
    assert r.status_code == 201, r.text
    token = token_for(server.url, f"repository:{image}:pull,push", auth=(name, password))
    assert pull_and_push(server, image, token) == (200, 202)
    r = admin_client.put(f"/users/{user_id}/password", json={"new_password": "N3w-Passw0rd"})
    assert r.status_code == 200, r.text
    assert pull_and_push(server, image, token) == (401, 401)
    fresh = token_for(server.url, f"repository:{image}:pull,push", auth=(name, "N3w-Passw0rd"))
    assert pull_and_push(server, image, fresh) == (200, 202)
    # the rights it was granted with change: a new system administrator needs a new token
    assert (
        admin_client.put(f"/users/{user_id}/sysadmin", json={"sysadmin_flag": True}).status_code
        == 200
    )
    assert pull_and_push(server, image, fresh) == (401, 401)


def robot_body(name: str, project: str, level: str) -> dict:
    return {
        "name": name,
        "level": level,
        "duration": -1,
        "permissions": [
            {
                "kind": "project",
                "namespace": project,
                "access": [
                    {"resource": "repository", "action": "pull", "effect": "allow"},
                    {"resource": "repository", "action": "push", "effect": "allow"},
                ],
            }
        ],
    }


@pytest.mark.parametrize("level", ["project", "system"])
def test_robot_token_dies_with_the_robot_even_if_the_name_comes_back(
    server, admin_client, image, level
):
    project = image.split("/")[0]
    body = robot_body(unique("bot"), project, level)
    r = admin_client.post("/robots", json={**body, "secret": "Same-Secret-1"})
    assert r.status_code == 201, r.text
    robot_id, robot_name = r.json()["id"], r.json()["name"]
    token = token_for(
        server.url, f"repository:{image}:pull,push", auth=(robot_name, "Same-Secret-1")
    )
    assert pull_and_push(server, image, token) == (200, 202)

    assert admin_client.delete(f"/robots/{robot_id}").status_code == 200
    assert pull_and_push(server, image, token) == (401, 401)
    # recreated with the same name and secret (on SQLite possibly even the same id)
    r = admin_client.post("/robots", json={**body, "secret": "Same-Secret-1"})
    assert r.status_code == 201, r.text
    try:
        assert r.json()["name"] == robot_name
        assert pull_and_push(server, image, token) == (401, 401)
        fresh = token_for(
            server.url, f"repository:{image}:pull,push", auth=(robot_name, "Same-Secret-1")
        )
        assert pull_and_push(server, image, fresh) == (200, 202)
    finally:
        admin_client.delete(f"/robots/{r.json()['id']}")


@pytest.mark.parametrize("level", ["project", "system"])
def test_robot_token_dies_when_disabled_refreshed_or_narrowed(server, admin_client, image, level):
    project = image.split("/")[0]
    r = admin_client.post("/robots", json=robot_body(unique("bot"), project, level))
    assert r.status_code == 201, r.text
    robot_id, creds = r.json()["id"], (r.json()["name"], r.json()["secret"])
    try:
        scope = f"repository:{image}:pull,push"
        token = token_for(server.url, scope, auth=creds)
        robot = admin_client.get(f"/robots/{robot_id}").json()
        assert (
            admin_client.put(f"/robots/{robot_id}", json={**robot, "disable": True}).status_code
            == 200
        )
        assert pull_and_push(server, image, token) == (401, 401)
        assert (
            admin_client.put(f"/robots/{robot_id}", json={**robot, "disable": False}).status_code
            == 200
        )
        # a description change is no reason to end the robot's tokens
        assert (
            admin_client.put(f"/robots/{robot_id}", json={**robot, "description": "x"}).status_code
            == 200
        )
        assert pull_and_push(server, image, token) == (200, 202)

        # a refreshed secret ends the tokens issued with the old one
        r = admin_client.patch(f"/robots/{robot_id}", json={})
        assert r.status_code == 200, r.text
        assert pull_and_push(server, image, token) == (401, 401)
        creds = (creds[0], r.json()["secret"])
        token = token_for(server.url, scope, auth=creds)
        assert pull_and_push(server, image, token) == (200, 202)

        # narrowed permissions: the push granted before is not kept
        robot = admin_client.get(f"/robots/{robot_id}").json()
        robot["permissions"][0]["access"] = [
            {"resource": "repository", "action": "pull", "effect": "allow"}
        ]
        assert admin_client.put(f"/robots/{robot_id}", json=robot).status_code == 200
        assert pull_and_push(server, image, token) == (401, 401)
        token = token_for(server.url, scope, auth=creds)
        # the robot now lacks push: Harbor's 401 "unauthorized to access repository"
        assert pull_and_push(server, image, token) == (200, 401)
    finally:
        admin_client.delete(f"/robots/{robot_id}")


def test_a_token_without_its_account_binding_is_refused(server, new_user, image):
    """Tokens name their account by id and state; one naming only a user is not accepted
    (this also covers tokens from before the binding existed)."""
    import jwt

    from harbor_api.auth.keys import load_service_key
    from harbor_api.settings import Settings

    key = load_service_key(Settings(data_dir=server.data_dir))
    claims = claims_of(
        token_for(server.url, f"repository:{image}:pull", auth=("admin", "Harbor12345"))
    )
    assert claims.get("harbor_account", {}).get("kind") == "user"
    del claims["harbor_account"]
    forged = jwt.encode(
        claims, key.private_key, algorithm="RS256", headers={"kid": key.kid, "x5c": key.x5c}
    )
    r = requests.get(f"{server.url}/v2/{image}/manifests/v1", headers=bearer(forged), timeout=30)
    assert r.status_code == 401
