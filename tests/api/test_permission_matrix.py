"""Every role × every operation of docs/permissions.md, through the real API and /v2/.

The expected outcome of each cell comes from the document's matrix (its ✓ marks), not from
the code: a role holding the operation's permission must succeed, every other caller must be
refused — 403 on the API (401 ``unauthorized to access repository`` on /v2/, as Harbor) when
it can see the (private) project, 404 when it cannot; anonymous callers get 401 on /v2/ (so
clients retry with credentials) and 404 on the API (no existence leak).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import pytest
import requests

from tests.support.clients import ApiClient
from tests.support.permissions_doc import matrix, operations
from tests.support.push import OCI_MANIFEST, Pusher
from tests.support.servers import ADMIN_PASSWORD
from tests.support.tokens import bearer, token_for

pytestmark = pytest.mark.api

ROLE_IDS = {"limitedGuest": 5, "guest": 3, "developer": 2, "maintainer": 4, "projectAdmin": 1}
CALLERS = [*ROLE_IDS, "sysadmin", "nonMember", "anonymous"]
MATRIX, OPERATIONS = matrix(), operations()


def expected_allowed(caller: str, operation: str) -> bool:
    if caller == "sysadmin":
        return True
    if caller in ("nonMember", "anonymous"):
        return False  # the project is private: the "public" column does not apply
    return caller in MATRIX[OPERATIONS[operation]]


def refusals(caller: str, operation: str = "") -> set[int]:
    if operation in V2_OPERATIONS:  # /v2/, Basic and token alike
        return {404} if caller == "nonMember" else {401}
    if caller == "anonymous":  # the API hides the project (or asks for credentials)
        return {401, 404}
    if caller == "nonMember":
        return {404}
    return {403, 404} if not expected_allowed(caller, "pull") else {403}


V2_OPERATIONS = ("pull", "push")


@dataclass
class World:
    server: object
    admin: ApiClient
    project: str
    repo: str
    manifest: bytes
    creds: dict[str, tuple[str, str] | None] = field(default_factory=dict)
    delete_projects: dict[str, str] = field(default_factory=dict)
    doomed: dict[str, str] = field(default_factory=dict)  # caller -> deletable digest
    targets: dict[str, str] = field(default_factory=dict)  # caller -> user to add as member

    def api(self, caller: str) -> ApiClient:
        return ApiClient(self.server.url, self.creds[caller])


def _user(admin: ApiClient, prefix: str) -> tuple[str, str]:
    name, password = f"{prefix}-{uuid.uuid4().hex[:8]}".lower(), "Matr1x-" + uuid.uuid4().hex[:6]
    r = admin.post(
        "/users",
        json={
            "username": name,
            "email": f"{name}@example.com",
            "realname": name,
            "password": password,
        },
    )
    assert r.status_code == 201, r.text
    return name, password


def _project(admin: ApiClient, prefix: str) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    r = admin.post("/projects", json={"project_name": name, "metadata": {"public": "false"}})
    assert r.status_code == 201, r.text
    return name


def _member(admin: ApiClient, project: str, username: str, role: int) -> None:
    r = admin.post(
        f"/projects/{project}/members",
        json={"role_id": role, "member_user": {"username": username}},
    )
    assert r.status_code == 201, r.text


@pytest.fixture(scope="module")
def world(server):
    admin = ApiClient(server.url, ("admin", ADMIN_PASSWORD))
    project = _project(admin, "matrix")
    repo = f"{project}/seed"
    pusher = Pusher(server.url)
    pushed = pusher.image(repo, "v1")
    manifest = requests.get(
        f"{server.url}/v2/{repo}/manifests/v1",
        auth=admin.auth,
        headers={"Accept": OCI_MANIFEST},
        timeout=30,
    ).content
    w = World(server, admin, project, repo, manifest)
    w.creds = {"sysadmin": ("admin", ADMIN_PASSWORD), "anonymous": None}
    for caller in [*ROLE_IDS, "nonMember"]:
        w.creds[caller] = _user(admin, caller)
    for caller in CALLERS:
        w.doomed[caller] = pusher.image(repo, f"del-{caller.lower()}").digest
        w.targets[caller] = _user(admin, "target")[0]
        w.delete_projects[caller] = _project(admin, "del")
        if caller in ROLE_IDS:
            _member(admin, project, w.creds[caller][0], ROLE_IDS[caller])
            _member(admin, w.delete_projects[caller], w.creds[caller][0], ROLE_IDS[caller])
    assert pushed.digest
    yield w
    for name in [*w.delete_projects.values()]:
        admin.delete(f"/projects/{name}", headers={"X-Is-Resource-Name": "true"})


# --------------------------------------------------------------------------- operations
def do_pull(w: World, caller: str) -> list[int]:
    url = f"{w.server.url}/v2/{w.repo}/manifests/v1"
    accept = {"Accept": OCI_MANIFEST}
    token = token_for(w.server.url, f"repository:{w.repo}:pull", auth=w.creds[caller])
    via_token = requests.get(url, headers={**accept, **bearer(token)}, timeout=30).status_code
    via_basic = requests.get(url, headers=accept, auth=w.creds[caller], timeout=30).status_code
    return [via_token, via_basic]


def do_push(w: World, caller: str) -> list[int]:
    tag = f"push-{caller.lower()}"
    url = f"{w.server.url}/v2/{w.repo}/manifests/{tag}"
    headers = {"Content-Type": OCI_MANIFEST}
    token = token_for(w.server.url, f"repository:{w.repo}:pull,push", auth=w.creds[caller])
    via_token = requests.put(
        url, data=w.manifest, headers={**headers, **bearer(token)}, timeout=30
    ).status_code
    via_basic = requests.put(
        url, data=w.manifest, headers=headers, auth=w.creds[caller], timeout=30
    ).status_code
    return [via_token, via_basic]


def do_delete(w: World, caller: str) -> list[int]:
    return [
        w.api(caller)
        .delete(f"/projects/{w.project}/repositories/seed/artifacts/{w.doomed[caller]}")
        .status_code
    ]


def do_tag(w: World, caller: str) -> list[int]:
    return [
        w.api(caller)
        .post(
            f"/projects/{w.project}/repositories/seed/artifacts/v1/tags",
            json={"name": f"tag-{caller.lower()}"},
        )
        .status_code
    ]


def do_member(w: World, caller: str) -> list[int]:
    return [
        w.api(caller)
        .post(
            f"/projects/{w.project}/members",
            json={"role_id": 3, "member_user": {"username": w.targets[caller]}},
        )
        .status_code
    ]


def do_robot(w: World, caller: str) -> list[int]:
    body = {
        "name": f"m{uuid.uuid4().hex[:8]}",
        "level": "project",
        "duration": -1,
        "permissions": [
            {
                "kind": "project",
                "namespace": w.project,
                "access": [{"resource": "repository", "action": "pull", "effect": "allow"}],
            }
        ],
    }
    r = w.api(caller).post("/robots", json=body)
    if r.status_code == 201:
        w.admin.delete(f"/robots/{r.json()['id']}")
    return [r.status_code]


def do_update(w: World, caller: str) -> list[int]:
    return [
        w.api(caller)
        .put(
            f"/projects/{w.project}",
            headers={"X-Is-Resource-Name": "true"},
            json={"metadata": {"auto_scan": "false"}},
        )
        .status_code
    ]


def do_project_delete(w: World, caller: str) -> list[int]:
    return [
        w.api(caller)
        .delete(f"/projects/{w.delete_projects[caller]}", headers={"X-Is-Resource-Name": "true"})
        .status_code
    ]


def do_repository_read(w: World, caller: str) -> list[int]:
    return [w.api(caller).get(f"/projects/{w.project}/repositories/seed").status_code]


def do_repository_list(w: World, caller: str) -> list[int]:
    return [w.api(caller).get(f"/projects/{w.project}/repositories").status_code]


def do_artifact_read(w: World, caller: str) -> list[int]:
    return [w.api(caller).get(f"/projects/{w.project}/repositories/seed/artifacts/v1").status_code]


def do_member_list(w: World, caller: str) -> list[int]:
    return [w.api(caller).get(f"/projects/{w.project}/members").status_code]


def do_log_list(w: World, caller: str) -> list[int]:
    return [w.api(caller).get(f"/projects/{w.project}/logs").status_code]


ACTIONS = {
    "repository read": (do_repository_read, {200}),
    "repository list": (do_repository_list, {200}),
    "artifact read": (do_artifact_read, {200}),
    "member list": (do_member_list, {200}),
    "log list": (do_log_list, {200}),
    "pull": (do_pull, {200}),
    "push": (do_push, {201}),
    "delete": (do_delete, {200}),
    "tag": (do_tag, {201}),
    "member management": (do_member, {201}),
    "robot management": (do_robot, {201}),
    "project update": (do_update, {200}),
    "project delete": (do_project_delete, {200}),
}


def test_operations_table_is_fully_exercised():
    assert set(ACTIONS) == set(OPERATIONS)


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.parametrize("caller", CALLERS)
def test_matrix(world, caller, operation):
    run, success = ACTIONS[operation]
    statuses = run(world, caller)
    if expected_allowed(caller, operation):
        assert all(s in success for s in statuses), (caller, operation, statuses)
    else:
        allowed_refusals = refusals(caller, operation)
        assert all(s in allowed_refusals for s in statuses), (caller, operation, statuses)
