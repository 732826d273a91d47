"""Robot accounts: the /robots API and robot credentials on /api, /v2/ and /service/token."""

from __future__ import annotations

import re
import time

import pytest
import requests

from tests.conftest import unique
from tests.support.clients import ApiClient
from tests.support.push import Pusher
from tests.support.tokens import claims_of, fetch_token, sql

pytestmark = pytest.mark.api

SECRET_POLICY = re.compile(r"^(?=.*[a-z])(?=.*[A-Z])(?=.*\d).{8,128}$")


def access(*pairs: str) -> list[dict]:
    return [
        {"resource": p.split(":")[0], "action": p.split(":")[1], "effect": "allow"} for p in pairs
    ]


def robot_body(name: str, project: str, *pairs: str, level: str = "project", **extra) -> dict:
    return {
        "name": name,
        "level": level,
        "duration": -1,
        "description": "ci robot",
        "permissions": [{"kind": "project", "namespace": project, "access": access(*pairs)}],
        **extra,
    }


@pytest.fixture
def image(server, project):
    Pusher(server.url).image(f"{project}/app", "v1")
    return f"{project}/app"


@pytest.fixture
def puller(admin_client, project):
    """A project robot that may pull (not push) in ``project``: (id, name, secret)."""
    r = admin_client.post("/robots", json=robot_body(unique("pull"), project, "repository:pull"))
    assert r.status_code == 201, r.text
    body = r.json()
    yield body["id"], body["name"], body["secret"]
    admin_client.delete(f"/robots/{body['id']}")


def v2_status(server, method: str, path: str, auth) -> int:
    return requests.request(method, f"{server.url}/v2/{path}", auth=auth, timeout=30).status_code


def test_create_returns_secret_once(server, admin_client, project):
    name = unique("bot")
    r = admin_client.post("/robots", json=robot_body(name, project, "repository:pull"))
    assert r.status_code == 201, r.text
    created = r.json()
    assert set(created) == {"id", "name", "secret", "creation_time", "expires_at"}
    assert created["name"] == f"robot${project}+{name}" and created["expires_at"] == -1
    assert SECRET_POLICY.match(created["secret"])
    assert r.headers["Location"].endswith(f"/robots/{created['id']}")
    got = admin_client.get(f"/robots/{created['id']}").json()
    assert "secret" not in got
    assert got["level"] == "project" and got["duration"] == -1 and got["disable"] is False
    assert got["editable"] is True and got["description"] == "ci robot"
    assert got["permissions"] == [
        {"kind": "project", "namespace": project, "access": access("repository:pull")}
    ]
    stored = sql(server, "SELECT secret_hash FROM robots WHERE id = :i", i=created["id"])
    assert stored[0][0].startswith("scrypt$") and created["secret"] not in stored[0][0]
    assert admin_client.delete(f"/robots/{created['id']}").status_code == 200
    assert admin_client.get(f"/robots/{created['id']}").status_code == 404


def test_system_robot_and_duration(admin_client, project):
    name = unique("sys")
    body = robot_body(
        name, "*", "repository:pull", level="system", duration=7, secret="Sup3rSecret"
    )
    r = admin_client.post("/robots", json=body)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["name"] == f"robot${name}" and created["secret"] == "Sup3rSecret"
    assert abs(created["expires_at"] - (time.time() + 7 * 86400)) < 120
    listed = admin_client.get("/robots", params={"q": "Level=system", "page_size": 100})
    assert listed.status_code == 200 and int(listed.headers["X-Total-Count"]) >= 1
    assert created["id"] in [x["id"] for x in listed.json()]
    admin_client.delete(f"/robots/{created['id']}")


@pytest.mark.parametrize(
    "change,status",
    [
        ({"name": "Bad Name"}, 400),
        ({"level": "galaxy"}, 400),
        ({"secret": "weak"}, 400),
        ({"secret": "alllowercase1"}, 400),
        ({"duration": -5}, 400),
        ({"permissions": []}, 400),
        (
            {
                "permissions": [
                    {"kind": "project", "namespace": "*", "access": access("repository:pull")}
                ]
            },
            400,
        ),
        (
            {
                "permissions": [
                    {
                        "kind": "project",
                        "namespace": "PROJECT",
                        "access": access("repository:launch"),
                    }
                ]
            },
            400,
        ),
        (
            {
                "permissions": [
                    {"kind": "system", "namespace": "PROJECT", "access": access("repository:pull")}
                ]
            },
            400,
        ),
        (
            {
                "permissions": [
                    {
                        "kind": "project",
                        "namespace": "no-such-project-x",
                        "access": access("repository:pull"),
                    }
                ]
            },
            404,
        ),
    ],
)
def test_invalid_robots_are_refused(admin_client, project, change, status):
    body = robot_body(unique("bad"), project, "repository:pull")
    for perm in change.get("permissions", []):
        if perm.get("namespace") == "PROJECT":
            perm["namespace"] = project
    body.update(change)
    r = admin_client.post("/robots", json=body)
    assert r.status_code == status, r.text


def test_duplicate_name_conflicts(admin_client, project, puller):
    _, name, _ = puller
    short = name.split("+", 1)[1]
    r = admin_client.post("/robots", json=robot_body(short, project, "repository:pull"))
    assert r.status_code == 409


def test_who_may_manage_robots(server, admin_client, project, new_user):
    _, pa, pa_pw, pa_client = new_user()
    _, maint, maint_pw, maint_client = new_user()
    _, outsider, _, outsider_client = new_user()
    for user, role in ((pa, 1), (maint, 4)):
        assert (
            admin_client.post(
                f"/projects/{project}/members",
                json={"role_id": role, "member_user": {"username": user}},
            ).status_code
            == 201
        )
    r = pa_client.post("/robots", json=robot_body(unique("pa"), project, "repository:pull"))
    assert r.status_code == 201, r.text
    robot_id = r.json()["id"]
    assert (
        maint_client.post(
            "/robots", json=robot_body(unique("m"), project, "repository:pull")
        ).status_code
        == 403
    )
    assert (
        outsider_client.post(
            "/robots", json=robot_body(unique("o"), project, "repository:pull")
        ).status_code
        == 404
    )
    assert (
        pa_client.post(
            "/robots", json=robot_body(unique("s"), "*", "repository:pull", level="system")
        ).status_code
        == 403
    )
    project_id = admin_client.get(
        f"/projects/{project}", headers={"X-Is-Resource-Name": "true"}
    ).json()["project_id"]
    q = {"q": f"Level=project,ProjectID={project_id}"}
    assert [x["id"] for x in maint_client.get("/robots", params=q).json()] == [robot_id]
    assert maint_client.get(f"/robots/{robot_id}").status_code == 200
    assert maint_client.delete(f"/robots/{robot_id}").status_code == 403
    assert outsider_client.get(f"/robots/{robot_id}").status_code == 404
    assert outsider_client.get("/robots").status_code == 403
    assert ApiClient(server.url).get("/robots").status_code == 401
    assert pa_client.delete(f"/robots/{robot_id}").status_code == 200


def test_robot_pulls_but_cannot_push(server, admin_client, image, puller):
    _, name, secret = puller
    creds = (name, secret)
    assert v2_status(server, "GET", f"{image}/manifests/v1", creds) == 200
    assert v2_status(server, "POST", f"{image}/blobs/uploads/", creds) == 401  # as Harbor
    logged = admin_client.get("/audit-logs", params={"q": f"username={name}", "page_size": 100})
    assert logged.status_code == 200, logged.text
    assert {"operation": "denied", "resource": f"{image}:push"}.items() <= next(
        e for e in logged.json() if e["operation"] == "denied"
    ).items()
    assert secret not in logged.text
    project = image.split("/")[0]
    token = fetch_token(
        server.url, f"repository:{image}:pull,push", "repository:library/x:pull", auth=creds
    )
    assert token.status_code == 200
    claims = claims_of(token.json()["token"])
    assert claims["sub"] == name
    assert claims["access"] == [
        {"type": "repository", "name": image, "actions": ["pull"]},
        {"type": "repository", "name": "library/x", "actions": ["pull"]},
    ]  # public: anyone may pull
    # a project robot reaches nothing of the management API beyond what it was given
    api = ApiClient(server.url, creds)
    assert api.get(f"/projects/{project}/members").status_code == 403
    assert api.get("/users").status_code in (401, 403)


def test_disable_refresh_update_and_expiry(server, admin_client, image, puller):
    robot_id, name, secret = puller
    path = f"{image}/manifests/v1"
    robot = admin_client.get(f"/robots/{robot_id}").json()
    assert (
        admin_client.put(f"/robots/{robot_id}", json={**robot, "disable": True}).status_code == 200
    )
    assert v2_status(server, "GET", path, (name, secret)) == 401
    assert fetch_token(server.url, auth=(name, secret)).status_code == 401
    assert (
        admin_client.put(f"/robots/{robot_id}", json={**robot, "disable": False}).status_code == 200
    )
    assert v2_status(server, "GET", path, (name, secret)) == 200
    # refresh: a new secret is returned once; the old one stops working
    r = admin_client.patch(f"/robots/{robot_id}", json={})
    assert r.status_code == 200 and SECRET_POLICY.match(r.json()["secret"])
    fresh = r.json()["secret"]
    assert v2_status(server, "GET", path, (name, secret)) == 401
    assert v2_status(server, "GET", path, (name, fresh)) == 200
    assert admin_client.patch(f"/robots/{robot_id}", json={"secret": "short"}).status_code == 400
    # grant push by updating the permissions
    robot["permissions"][0]["access"] = access("repository:pull", "repository:push")
    assert admin_client.put(f"/robots/{robot_id}", json=robot).status_code == 200
    assert v2_status(server, "POST", f"{image}/blobs/uploads/", (name, fresh)) == 202
    # expired: refused everywhere
    sql(
        server,
        "UPDATE robots SET expires_at = :t WHERE id = :i",
        t=int(time.time()) - 5,
        i=robot_id,
    )
    assert v2_status(server, "GET", path, (name, fresh)) == 401
    assert fetch_token(server.url, auth=(name, fresh)).status_code == 401


def test_robot_token_stops_when_robot_is_deleted(server, admin_client, image, puller):
    robot_id, name, secret = puller
    token = fetch_token(server.url, f"repository:{image}:pull", auth=(name, secret))
    bearer = {"Authorization": f"Bearer {token.json()['token']}"}
    url = f"{server.url}/v2/{image}/tags/list"
    assert requests.get(url, headers=bearer, timeout=30).status_code == 200
    assert admin_client.delete(f"/robots/{robot_id}").status_code == 200
    assert requests.get(url, headers=bearer, timeout=30).status_code == 401


def test_system_robot_covers_listed_projects(server, admin_client, image):
    project = image.split("/")[0]
    body = {
        "name": unique("multi"),
        "level": "system",
        "duration": -1,
        "permissions": [
            {
                "kind": "project",
                "namespace": project,
                "access": access("repository:pull", "repository:push"),
            },
            {"kind": "project", "namespace": "library", "access": access("repository:pull")},
        ],
    }
    r = admin_client.post("/robots", json=body)
    assert r.status_code == 201, r.text
    creds = (r.json()["name"], r.json()["secret"])
    try:
        assert v2_status(server, "POST", f"{image}/blobs/uploads/", creds) == 202
        assert v2_status(server, "POST", "library/robot-x/blobs/uploads/", creds) == 401
    finally:
        admin_client.delete(f"/robots/{r.json()['id']}")


def test_harborapi_client_manages_robots(server, project):
    """The PyPI ``harborapi`` client works unchanged against the robot endpoints."""
    import asyncio

    from harborapi import HarborAsyncClient
    from harborapi.models import Access, RobotCreate, RobotPermission

    async def scenario():
        client = HarborAsyncClient(
            url=f"{server.url}/api/v2.0", username="admin", secret="Harbor12345"
        )
        created = await client.create_robot(
            RobotCreate(
                name=unique("hapi"),
                level="project",
                duration=-1,
                permissions=[
                    RobotPermission(
                        kind="project",
                        namespace=project,
                        access=[Access(resource="repository", action="pull", effect="allow")],
                    )
                ],
            )
        )
        assert created.name.startswith(f"robot${project}+") and created.secret
        robot = await client.get_robot(created.id)
        assert robot.secret is None and robot.permissions[0].namespace == project
        robot.description = "changed by harborapi"
        await client.update_robot(created.id, robot)
        assert (await client.get_robot(created.id)).description == "changed by harborapi"
        refreshed = await client.refresh_robot_secret(created.id, "Refr3shedSecret")
        assert refreshed.secret == "Refr3shedSecret"
        assert created.id in [r.id for r in await client.get_robots(limit=None)]
        await client.delete_robot(created.id)

    asyncio.run(scenario())


def test_out_of_range_ids_are_404(admin_client):
    huge = 2**63 - 1
    assert admin_client.get(f"/robots/{huge}").status_code == 404
    assert admin_client.delete(f"/robots/{huge}").status_code == 404
    r = admin_client.get("/robots", params={"q": f"Level=project,ProjectID={huge}"})
    assert r.status_code == 404


def test_a_robot_cannot_grant_more_than_it_holds(server, admin_client, project):
    """A robot allowed to manage robots creates and edits robots only within its own access."""
    r = admin_client.post(
        "/robots",
        json=robot_body(
            unique("boss"), project, "robot:create", "robot:update", "robot:read", "repository:pull"
        ),
    )
    assert r.status_code == 201, r.text
    boss = ApiClient(server.url, (r.json()["name"], r.json()["secret"]))
    escalate = boss.post(
        "/robots", json=robot_body(unique("up"), project, "repository:pull", "repository:delete")
    )
    assert escalate.status_code == 403, escalate.text
    r = boss.post("/robots", json=robot_body(unique("ok"), project, "repository:pull"))
    assert r.status_code == 201, r.text
    child = r.json()["id"]
    wider = {
        "permissions": robot_body("x", project, "repository:pull", "member:create")["permissions"]
    }
    refused = boss.put(f"/robots/{child}", json=wider)
    assert refused.status_code == 403 and "does not hold" in refused.text, refused.text
    got = admin_client.get(f"/robots/{child}").json()
    assert got["permissions"][0]["access"] == access("repository:pull")


def test_a_robot_cannot_take_over_a_wider_robot(server, admin_client, project):
    """Refreshing the secret of a robot with more access would hand that access over."""
    r = admin_client.post(
        "/robots",
        json=robot_body(unique("mgr"), project, "robot:update", "robot:read", "repository:pull"),
    )
    assert r.status_code == 201, r.text
    manager = ApiClient(server.url, (r.json()["name"], r.json()["secret"]))
    r = admin_client.post(
        "/robots",
        json=robot_body(
            unique("wide"), project, "repository:pull", "repository:push", "repository:delete"
        ),
    )
    assert r.status_code == 201, r.text
    wide = r.json()["id"]
    refused = manager.patch(f"/robots/{wide}", json={"secret": "N3w-secret-value"})
    assert refused.status_code == 403, refused.text
    assert manager.put(f"/robots/{wide}", json={"disable": True}).status_code == 403
    r = admin_client.post("/robots", json=robot_body(unique("narrow"), project, "repository:pull"))
    narrow = r.json()["id"]
    assert manager.patch(f"/robots/{narrow}", json={}).status_code == 200


def test_a_robot_cannot_create_projects(server, puller):
    """Robots hold project-scoped access; creating a project would be a system grant."""
    _, name, secret = puller
    robot = ApiClient(server.url, (name, secret))
    r = robot.post("/projects", json={"project_name": unique("byrobot")})
    assert r.status_code == 403, r.text


def test_a_recreated_project_is_not_covered_by_old_system_robots(server, admin_client, new_user):
    """A system robot named project P; P is deleted and someone creates a new P: the robot
    must not reach the newcomer's private project."""
    name = unique("gone")
    assert admin_client.post("/projects", json={"project_name": name}).status_code == 201
    body = {
        "name": unique("old"),
        "level": "system",
        "duration": -1,
        "permissions": [
            {"kind": "project", "namespace": name, "access": access("repository:pull")},
            {"kind": "project", "namespace": "library", "access": access("repository:pull")},
        ],
    }
    r = admin_client.post("/robots", json=body)
    assert r.status_code == 201, r.text
    robot_id, creds = r.json()["id"], (r.json()["name"], r.json()["secret"])
    assert ApiClient(server.url, creds).get(f"/projects/{name}").status_code == 200
    assert admin_client.delete(f"/projects/{name}").status_code == 200
    _, _, _, owner = new_user()
    r = owner.post("/projects", json={"project_name": name, "metadata": {"public": "false"}})
    assert r.status_code == 201, r.text
    assert ApiClient(server.url, creds).get(f"/projects/{name}").status_code == 404
    kept = admin_client.get(f"/robots/{robot_id}").json()["permissions"]
    assert [p["namespace"] for p in kept] == ["library"]


def test_a_robot_cannot_delete_a_wider_robot(server, admin_client, project):
    r = admin_client.post(
        "/robots",
        json=robot_body(unique("del"), project, "robot:delete", "robot:read", "repository:pull"),
    )
    assert r.status_code == 201, r.text
    deleter = ApiClient(server.url, (r.json()["name"], r.json()["secret"]))
    wide = admin_client.post(
        "/robots", json=robot_body(unique("wide"), project, "repository:pull", "repository:push")
    ).json()["id"]
    assert deleter.delete(f"/robots/{wide}").status_code == 403
    narrow = admin_client.post(
        "/robots", json=robot_body(unique("narrow"), project, "repository:pull")
    ).json()["id"]
    assert deleter.delete(f"/robots/{narrow}").status_code == 200
    assert admin_client.get(f"/robots/{wide}").status_code == 200


def test_robot_records_its_creator(admin_client, project):
    """Harbor's creator_type ("local" for a user, "robot" for a robot) and creator_ref (its
    id) on reads."""
    admin_id = admin_client.get("/users/current").json()["user_id"]
    r = admin_client.post(
        "/robots",
        json=robot_body(
            unique("maker"), project, "repository:pull", "robot:create", "robot:read", "robot:list"
        ),
    )
    assert r.status_code == 201, r.text
    maker = r.json()
    shown = admin_client.get(f"/robots/{maker['id']}").json()
    assert (shown["creator_type"], shown["creator_ref"]) == ("local", admin_id)
    as_robot = ApiClient(admin_client.base_url, (maker["name"], maker["secret"]))
    r = as_robot.post("/robots", json=robot_body(unique("made"), project, "repository:pull"))
    assert r.status_code == 201, r.text
    made = r.json()
    listed = admin_client.get("/robots", params={"q": f"name=~{made['name'].split('+')[1]}"})
    found = [b for b in listed.json() if b["id"] == made["id"]]
    assert [(b["creator_type"], b["creator_ref"]) for b in found] == [("robot", maker["id"])]
    for robot_id in (made["id"], maker["id"]):
        admin_client.delete(f"/robots/{robot_id}")
