"""Review finding: the per-account upload byte limit is checked against the *caller's*
open sessions while the bytes are counted to the session's *owner*. Anyone with push in a
repository can append to a session someone else opened (Distribution allows that); the
caller's own total stays 0, so every chunk gets the full allowance again and the session
grows without bound. A project admin needs nobody else: they create a robot, let it open
one session, then fill the disk through it as themselves.

Fix: take the allowance of the session's owner (``uploads.owner``) in
``UploadSessions._byte_allowance`` (and of the caller, if both are to be bounded)."""

import uuid

import pytest
import requests

from tests.conftest import unique
from tests.support.clients import ApiClient
from tests.support.servers import ADMIN_PASSWORD, running_server

pytestmark = pytest.mark.api

LIMIT = 100_000


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    env = {"HARBOR_MAX_UPLOAD_BYTES_PER_USER": str(LIMIT)}
    with running_server(tmp_path_factory.mktemp("limit-owner"), extra_env=env) as srv:
        yield srv


def test_appending_to_anothers_session_stays_within_the_limit(limited):
    name, password = unique("pa"), "Passw0rd!" + uuid.uuid4().hex[:4]
    with ApiClient(limited.url, ("admin", ADMIN_PASSWORD)) as admin:
        assert (
            admin.post(
                "/users",
                json={
                    "username": name,
                    "email": f"{name}@example.com",
                    "realname": name,
                    "password": password,
                },
            ).status_code
            == 201
        )
    project = unique("own")
    with ApiClient(limited.url, (name, password)) as me:
        assert me.post("/projects", json={"project_name": project}).status_code == 201
        r = me.post(
            "/robots",
            json={
                "name": unique("bot"),
                "level": "project",
                "duration": -1,
                "permissions": [
                    {
                        "kind": "project",
                        "namespace": project,
                        "access": [
                            {"resource": "repository", "action": "push"},
                            {"resource": "repository", "action": "pull"},
                        ],
                    }
                ],
            },
        )
        assert r.status_code == 201, r.text
        robot = (r.json()["name"], r.json()["secret"])
    r = requests.post(f"{limited.url}/v2/{project}/fill/blobs/uploads/", auth=robot, timeout=30)
    assert r.status_code == 202, r.text
    location = r.headers["Location"]
    chunk = b"x" * (LIMIT - 1)
    statuses = []
    for _ in range(4):
        r = requests.patch(
            location,
            data=chunk,
            auth=(name, password),
            timeout=60,
            headers={"Content-Type": "application/octet-stream"},
        )
        statuses.append(r.status_code)
        if r.status_code != 202:
            break
    # at most LIMIT bytes may be held in open sessions by one account (here: the robot's)
    assert statuses[-1] == 429, statuses
