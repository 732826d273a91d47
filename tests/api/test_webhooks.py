"""Webhook policies (``/projects/{p}/webhook/…``): Harbor's shapes, rules and RBAC
(``notification-policy``: project admins and system admins; maintainers list), on both
backends. Deliveries are in test_webhook_delivery.py."""

from __future__ import annotations

import pytest

from tests.conftest import unique

pytestmark = pytest.mark.api

EVENTS = [
    "PUSH_ARTIFACT",
    "PULL_ARTIFACT",
    "DELETE_ARTIFACT",
    "QUOTA_EXCEED",
    "QUOTA_WARNING",
    "REPLICATION",
    "TAG_RETENTION",
]


def _body(**fields) -> dict:
    return {
        "name": unique("hook"),
        "event_types": ["PUSH_ARTIFACT"],
        "targets": [{"type": "http", "address": "http://127.0.0.1:9/hook"}],
        "enabled": True,
        **fields,
    }


def _create(client, project: str, **fields) -> int:
    r = client.post(f"/projects/{project}/webhook/policies", json=_body(**fields))
    assert r.status_code == 201, r.text
    location = r.headers["Location"]
    assert location.startswith(f"/api/v2.0/projects/{project}/webhook/policies/")
    return int(location.rsplit("/", 1)[1])


def test_policy_lifecycle_in_harbor_shapes(admin_client, project):
    name = unique("hook")
    targets = [
        {
            "type": "http",
            "address": "https://user:pw@hooks.example.com:8443/in?x=1#f",
            "auth_header": "Bearer s3cret",
            "skip_cert_verify": True,
            "payload_format": "CloudEvents",
        },
        {"type": "http", "address": "http://hooks.example.com/plain"},
        {"type": "slack", "address": "https://hooks.slack.com/services/T/B/X"},
    ]
    policy_id = _create(
        admin_client,
        project,
        name=name,
        description="to CI",
        targets=targets,
        event_types=["PUSH_ARTIFACT", "PULL_ARTIFACT", "PUSH_ARTIFACT"],
    )
    got = admin_client.get(f"/projects/{project}/webhook/policies/{policy_id}").json()
    project_id = admin_client.get(f"/projects/{project}").json()["project_id"]
    assert got["id"] == policy_id and got["name"] == name and got["description"] == "to CI"
    assert got["project_id"] == project_id and got["creator"] == "admin"
    assert got["enabled"] is True
    assert got["event_types"] == ["PUSH_ARTIFACT", "PULL_ARTIFACT"]
    assert got["targets"] == [
        {
            "type": "http",
            "address": "https://hooks.example.com:8443/in",  # Harbor keeps scheme://host/path
            "auth_header": "Bearer s3cret",
            "skip_cert_verify": True,
            "payload_format": "CloudEvents",
        },
        {
            "type": "http",
            "address": "http://hooks.example.com/plain",
            "auth_header": "",
            "skip_cert_verify": False,
            "payload_format": "Default",  # an http target's default format
        },
        {
            "type": "slack",
            "address": "https://hooks.slack.com/services/T/B/X",
            "auth_header": "",
            "skip_cert_verify": False,
        },
    ]
    assert got["creation_time"].endswith("Z") and got["update_time"].endswith("Z")
    # by id too, and with X-Is-Resource-Name
    assert (
        admin_client.get(f"/projects/{project_id}/webhook/policies/{policy_id}").status_code == 200
    )
    r = admin_client.get(
        f"/projects/{project}/webhook/policies/{policy_id}",
        headers={"X-Is-Resource-Name": "true"},
    )
    assert r.status_code == 200
    # the name is unique in the project
    r = admin_client.post(f"/projects/{project}/webhook/policies", json=_body(name=name))
    assert r.status_code == 409, r.text
    # PUT replaces the policy; enabled absent is false (Harbor)
    r = admin_client.put(
        f"/projects/{project}/webhook/policies/{policy_id}",
        json={
            "name": name,
            "event_types": ["DELETE_ARTIFACT"],
            "targets": [{"type": "http", "address": "http://other.example.com/"}],
        },
    )
    assert r.status_code == 200, r.text
    got = admin_client.get(f"/projects/{project}/webhook/policies/{policy_id}").json()
    assert got["enabled"] is False and got["event_types"] == ["DELETE_ARTIFACT"]
    assert [t["address"] for t in got["targets"]] == ["http://other.example.com/"]
    assert got["description"] == ""
    # delete
    assert (
        admin_client.delete(f"/projects/{project}/webhook/policies/{policy_id}").status_code == 200
    )
    r = admin_client.get(f"/projects/{project}/webhook/policies/{policy_id}")
    assert r.status_code == 404
    assert r.json()["errors"][0]["code"] == "NOT_FOUND"


def test_list_sort_query_and_paging(admin_client, project):
    ids = [_create(admin_client, project, name=f"hook-{n}") for n in ("b", "a", "c")]
    r = admin_client.get(f"/projects/{project}/webhook/policies")
    assert r.status_code == 200 and r.headers["X-Total-Count"] == "3"
    assert [p["id"] for p in r.json()] == ids
    r = admin_client.get(f"/projects/{project}/webhook/policies", params={"sort": "-name"})
    assert [p["name"] for p in r.json()] == ["hook-c", "hook-b", "hook-a"]
    r = admin_client.get(f"/projects/{project}/webhook/policies", params={"q": "name=~a"})
    assert [p["name"] for p in r.json()] == ["hook-a"]
    r = admin_client.get(
        f"/projects/{project}/webhook/policies", params={"page": 2, "page_size": 2}
    )
    assert r.headers["X-Total-Count"] == "3" and len(r.json()) == 1 and "Link" in r.headers
    assert (
        admin_client.get(f"/projects/{project}/webhook/policies", params={"sort": "bogus"})
    ).status_code == 400
    assert (
        admin_client.get(f"/projects/{project}/webhook/policies", params={"q": "bogus=1"})
    ).status_code == 400


@pytest.mark.parametrize(
    "fields",
    [
        {"event_types": []},
        {"event_types": ["SCANNING_COMPLETED"]},
        {"targets": []},
        {"targets": [{"type": "email", "address": "http://x.example.com/"}]},
        {"targets": [{"type": "http", "address": "ftp://x.example.com/"}]},
        {"targets": [{"type": "http", "address": "not a url"}]},
        {"targets": [{"type": "http", "address": "http://x.example.com:99999/"}]},
        {
            "targets": [
                {"type": "slack", "address": "https://x.example.com/", "payload_format": "Default"}
            ]
        },
        {"targets": [{"type": "http", "address": "http://x.example.com/", "payload_format": "X"}]},
        {"name": "  "},
        {"name": "x" * 257},
    ],
)
def test_invalid_policies_are_400(admin_client, project, fields):
    r = admin_client.post(f"/projects/{project}/webhook/policies", json=_body(**fields))
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["code"] == "BAD_REQUEST"


def test_supported_event_types(admin_client, project):
    r = admin_client.get(f"/projects/{project}/webhook/events")
    assert r.status_code == 200
    assert r.json() == {
        "event_type": EVENTS,
        "notify_type": ["http", "slack"],
        "payload_formats": [{"notify_type": "http", "formats": ["Default", "CloudEvents"]}],
    }


def test_last_trigger_lists_every_policy_event(admin_client, project):
    first = unique("hook")
    _create(admin_client, project, name=first, event_types=["PUSH_ARTIFACT", "QUOTA_EXCEED"])
    r = admin_client.get(f"/projects/{project}/webhook/lasttrigger")
    assert r.status_code == 200
    items = r.json()
    assert [(i["policy_name"], i["event_type"]) for i in items] == [
        (first, "PUSH_ARTIFACT"),
        (first, "QUOTA_EXCEED"),
    ]
    assert all(i["enabled"] is True and "last_trigger_time" not in i for i in items)
    assert all(i["creation_time"].endswith("Z") for i in items)


def test_policy_of_another_project_is_404(admin_client, project):
    policy_id = _create(admin_client, project)
    other = unique("proj")
    assert admin_client.post("/projects", json={"project_name": other}).status_code == 201
    try:
        for path in (
            f"/projects/{other}/webhook/policies/{policy_id}",
            f"/projects/{other}/webhook/policies/{policy_id}/executions",
            f"/projects/{project}/webhook/policies/{policy_id}/executions/999999/tasks",
            f"/projects/{project}/webhook/policies/{policy_id}/executions/999999/tasks/1/log",
        ):
            assert admin_client.get(path).status_code == 404, path
        assert (
            admin_client.delete(f"/projects/{other}/webhook/policies/{policy_id}").status_code
            == 404
        )
        assert (
            admin_client.put(
                f"/projects/{other}/webhook/policies/{policy_id}", json=_body()
            ).status_code
            == 404
        )
    finally:
        admin_client.delete(f"/projects/{other}")


def test_executions_of_a_new_policy_are_empty(admin_client, project):
    policy_id = _create(admin_client, project)
    r = admin_client.get(f"/projects/{project}/webhook/policies/{policy_id}/executions")
    assert r.status_code == 200 and r.json() == [] and r.headers["X-Total-Count"] == "0"
    r = admin_client.get(
        f"/projects/{project}/webhook/policies/{policy_id}/executions", params={"sort": "x"}
    )
    assert r.status_code == 400


def _member(admin_client, project: str, username: str, role_id: int) -> None:
    r = admin_client.post(
        f"/projects/{project}/members",
        json={"role_id": role_id, "member_user": {"username": username}},
    )
    assert r.status_code == 201, r.text


def test_permissions_follow_harbor_rbac(admin_client, anon_client, project, new_user):
    policy_id = _create(admin_client, project)
    base = f"/projects/{project}/webhook"
    _, admin_name, _, project_admin = new_user()
    _, maintainer_name, _, maintainer = new_user()
    _, _, _, outsider = new_user()
    _member(admin_client, project, admin_name, 1)
    _member(admin_client, project, maintainer_name, 4)
    # a project admin does everything
    assert project_admin.get(f"{base}/policies/{policy_id}").status_code == 200
    created = project_admin.post(f"{base}/policies", json=_body())
    assert created.status_code == 201, created.text
    assert project_admin.get(f"{base}/events").status_code == 200
    assert project_admin.get(f"{base}/lasttrigger").status_code == 200
    assert project_admin.get(f"{base}/policies/{policy_id}/executions").status_code == 200
    # a maintainer lists, nothing more (Harbor)
    assert maintainer.get(f"{base}/policies").status_code == 200
    assert maintainer.get(f"{base}/policies/{policy_id}").status_code == 403
    assert maintainer.post(f"{base}/policies", json=_body()).status_code == 403
    assert maintainer.put(f"{base}/policies/{policy_id}", json=_body()).status_code == 403
    assert maintainer.delete(f"{base}/policies/{policy_id}").status_code == 403
    assert maintainer.get(f"{base}/events").status_code == 403
    # outside the private project: it does not exist
    assert outsider.get(f"{base}/policies").status_code == 404
    assert outsider.post(f"{base}/policies", json=_body()).status_code == 404
    assert anon_client.get(f"{base}/policies").status_code in (401, 404)
    missing = admin_client.get(f"/projects/{unique('nope')}/webhook/policies")
    assert missing.status_code == 404
