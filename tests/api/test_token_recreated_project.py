"""Review finding: a registry token's access to a project is dropped when the project was
created after the token (``int(creation_time) > iat``), compared in whole seconds: a project
deleted and recreated within the second the token was issued is reachable with the old
token (``auth/bearer.py``: ``_usual`` and ``_still_valid``). The same-second recreation is
simulated by setting the new project's creation time to ``iat + 0.5 s``.

Fix: bind the grant to the project's id (a claim, or ``creation_time`` compared with
sub-second precision and ``>=``), so a new project is never covered by an old token."""

import datetime as dt

import pytest
import requests

from tests.conftest import unique
from tests.support.tokens import bearer, claims_of, sql, token_for

pytestmark = pytest.mark.api


def test_a_project_recreated_in_the_same_second_is_not_reachable(server, admin_client, new_user):
    _, name, password, _ = new_user()
    project = unique("p")
    assert (
        admin_client.post(
            "/projects", json={"project_name": project, "metadata": {"public": "false"}}
        ).status_code
        == 201
    )
    r = admin_client.post(
        f"/projects/{project}/members",
        headers={"X-Is-Resource-Name": "true"},
        json={"role_id": 2, "member_user": {"username": name}},
    )
    assert r.status_code == 201, r.text
    token = token_for(server.url, f"repository:{project}/app:pull,push", auth=(name, password))
    assert claims_of(token)["access"], "the member is granted push"
    assert (
        admin_client.delete(
            f"/projects/{project}", headers={"X-Is-Resource-Name": "true"}
        ).status_code
        == 200
    )
    assert (
        admin_client.post(
            "/projects", json={"project_name": project, "metadata": {"public": "false"}}
        ).status_code
        == 201
    )  # the user is no member of this one
    try:
        same_second = dt.datetime.fromtimestamp(claims_of(token)["iat"] + 0.5, dt.UTC)
        stored = sql(server, "SELECT creation_time FROM projects WHERE name = :n", n=project)[0][0]
        value = (
            same_second.replace(tzinfo=None).isoformat(" ")
            if isinstance(stored, str)
            else same_second
        )
        sql(server, "UPDATE projects SET creation_time = :t WHERE name = :n", t=value, n=project)
        r = requests.post(
            f"{server.url}/v2/{project}/app/blobs/uploads/", headers=bearer(token), timeout=30
        )
        assert r.status_code in (401, 403, 404), (r.status_code, r.text)
    finally:
        admin_client.delete(f"/projects/{project}", headers={"X-Is-Resource-Name": "true"})
