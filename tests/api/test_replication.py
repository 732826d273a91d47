"""Replication policies (``/replication/policies``): Harbor's shapes and rules, system
admins only, endpoints in use by a policy not deletable (412)."""

from __future__ import annotations

import pytest

from tests.conftest import unique

pytestmark = pytest.mark.api


def _registry(client) -> int:
    r = client.post(
        "/registries",
        json={"name": unique("reg"), "type": "docker-registry", "url": "https://reg.example.com"},
    )
    assert r.status_code == 201, r.text
    return int(r.headers["Location"].rsplit("/", 1)[1])


def _policy(client, registry_id: int, **fields) -> int:
    body = {"name": unique("pol"), "dest_registry": {"id": registry_id}, **fields}
    r = client.post("/replication/policies", json=body)
    assert r.status_code == 201, r.text
    assert r.headers["Location"].startswith("/api/v2.0/replication/policies/")
    return int(r.headers["Location"].rsplit("/", 1)[1])


def test_policy_lifecycle_with_harbor_fields(admin_client):
    registry_id = _registry(admin_client)
    name = unique("pol")
    filters = [
        {"type": "name", "value": "library/**"},
        {"type": "tag", "value": "v{1,2}.*", "decoration": "excludes"},
        {"type": "label", "value": ["prod"], "decoration": "matches"},
        {"type": "resource", "value": "image"},
    ]
    policy_id = _policy(
        admin_client,
        registry_id,
        name=name,
        description="to the mirror",
        dest_namespace="mirror/x",
        dest_namespace_replace_count=1,
        filters=filters,
        replicate_deletion=True,
        override=True,
        enabled=False,
        speed=512,
        copy_by_chunk=True,
        single_active_replication=True,
        trigger={"type": "scheduled", "trigger_settings": {"cron": "0  0 * * * *"}},
    )
    got = admin_client.get(f"/replication/policies/{policy_id}").json()
    assert got["id"] == policy_id and got["name"] == name
    assert got["description"] == "to the mirror"
    assert got["dest_registry"]["id"] == registry_id
    assert got["dest_registry"]["type"] == "docker-registry"
    assert got["src_registry"]["id"] == 0 and got["src_registry"]["name"] == "Local"
    assert got["dest_namespace"] == "mirror/x" and got["dest_namespace_replace_count"] == 1
    assert got["filters"] == filters
    assert got["trigger"] == {"type": "scheduled", "trigger_settings": {"cron": "0 0 * * * *"}}
    assert got["replicate_deletion"] is True and got["deletion"] is True
    assert got["override"] is True and got["enabled"] is False and got["speed"] == 512
    assert got["copy_by_chunk"] is True and got["single_active_replication"] is True
    assert got["creation_time"].endswith("Z") and got["update_time"].endswith("Z")
    assert (
        admin_client.post(
            "/replication/policies", json={"name": name, "dest_registry": {"id": registry_id}}
        ).status_code
        == 409
    )
    # PUT replaces the whole policy (Harbor): here, pull mode with the defaults
    r = admin_client.put(
        f"/replication/policies/{policy_id}",
        json={"name": name, "src_registry": {"id": registry_id}, "dest_registry": None},
    )
    assert r.status_code == 200, r.text
    got = admin_client.get(f"/replication/policies/{policy_id}").json()
    assert got["src_registry"]["id"] == registry_id and got["dest_registry"]["id"] == 0
    assert got["trigger"]["type"] == "manual" and got["filters"] == []
    assert got["dest_namespace_replace_count"] == -1 and got["speed"] == -1
    assert got["enabled"] is True and got["override"] is False
    assert admin_client.delete(f"/replication/policies/{policy_id}").status_code == 200
    assert admin_client.get(f"/replication/policies/{policy_id}").status_code == 404
    assert admin_client.delete(f"/replication/policies/{policy_id}").status_code == 404
    assert (
        admin_client.put(
            f"/replication/policies/{policy_id}",
            json={"name": name, "dest_registry": {"id": registry_id}},
        ).status_code
        == 404
    )
    admin_client.delete(f"/registries/{registry_id}")


def test_list_with_q_name_sort_and_paging(admin_client):
    registry_id = _registry(admin_client)
    prefix = unique("lp")
    ids = [_policy(admin_client, registry_id, name=f"{prefix}-{i}") for i in range(3)]
    r = admin_client.get(
        "/replication/policies", params={"q": f"name=~{prefix}", "page_size": 2, "sort": "-name"}
    )
    assert r.status_code == 200 and r.headers["X-Total-Count"] == "3"
    assert [x["name"] for x in r.json()] == [f"{prefix}-2", f"{prefix}-1"]
    assert 'rel="next"' in r.headers["Link"]
    page2 = admin_client.get(
        "/replication/policies",
        params={"q": f"name=~{prefix}", "page": 2, "page_size": 2, "sort": "-name"},
    ).json()
    assert [x["id"] for x in page2] == [ids[0]]
    legacy = admin_client.get("/replication/policies", params={"name": prefix}).json()
    assert sorted(x["id"] for x in legacy) == sorted(ids)
    assert admin_client.get("/replication/policies", params={"q": "color=red"}).status_code == 400
    assert admin_client.get("/replication/policies", params={"sort": "speed"}).status_code == 400
    for policy_id in ids:
        admin_client.delete(f"/replication/policies/{policy_id}")
    admin_client.delete(f"/registries/{registry_id}")


@pytest.mark.parametrize(
    "fields, words",
    [
        ({"name": ""}, "name is required"),
        ({"dest_registry": None}, "exactly one of src_registry"),
        ({"src_registry": {"id": "REG"}}, "exactly one of src_registry"),
        ({"dest_registry": {"id": 999999}}, "registry 999999 not found"),
        ({"dest_namespace": "Bad/Namespace"}, "invalid dest_namespace"),
        ({"dest_namespace_replace_count": -2}, "dest_namespace_replace_count"),
        ({"speed": -5}, "speed"),
        ({"trigger": {"type": "hourly"}}, "unsupported trigger type"),
        (
            {"trigger": {"type": "scheduled", "trigger_settings": {"cron": "0 * * * *"}}},
            "valid cron",
        ),
        ({"trigger": {"type": "scheduled"}}, "valid cron"),
        (
            {
                "src_registry": {"id": "REG"},
                "dest_registry": None,
                "trigger": {"type": "event_based"},
            },
            "push mode only",
        ),
        ({"filters": [{"type": "color", "value": "red"}]}, "unsupported filter type"),
        ({"filters": [{"type": "name", "value": "a/{b"}]}, "invalid pattern"),
        ({"filters": [{"type": "tag", "value": 3}]}, "must be a string"),
        ({"filters": [{"type": "tag", "value": "x", "decoration": "maybe"}]}, "decoration"),
        ({"filters": [{"type": "name", "value": "x", "decoration": "excludes"}]}, "decoration"),
        ({"filters": [{"type": "label", "value": "prod"}]}, "list of names"),
        ({"filters": [{"type": "resource", "value": "chart"}]}, "invalid resource"),
        (
            {"filters": [{"type": "tag", "value": "a"}, {"type": "tag", "value": "b"}]},
            "only one tag filter",
        ),
    ],
)
def test_create_validation(admin_client, fields, words):
    registry_id = _registry(admin_client)
    fields = {k: ({"id": registry_id} if v == {"id": "REG"} else v) for k, v in fields.items()}
    body = {"name": unique("pol"), "dest_registry": {"id": registry_id}, **fields}
    r = admin_client.post("/replication/policies", json=body)
    assert r.status_code == 400, r.text
    error = r.json()["errors"][0]
    assert error["code"] == "BAD_REQUEST" and words in error["message"], error
    admin_client.delete(f"/registries/{registry_id}")


def test_registry_used_by_a_policy_is_not_deleted(admin_client):
    registry_id = _registry(admin_client)
    name = unique("pol")
    policy_id = _policy(admin_client, registry_id, name=name)
    r = admin_client.delete(f"/registries/{registry_id}")
    assert r.status_code == 412, r.text
    assert f"replication policy {name}" in r.json()["errors"][0]["message"]
    assert admin_client.delete(f"/replication/policies/{policy_id}").status_code == 200
    assert admin_client.delete(f"/registries/{registry_id}").status_code == 200


def test_only_system_admins(admin_client, anon_client, new_user):
    registry_id = _registry(admin_client)
    policy_id = _policy(admin_client, registry_id)
    _, _, _, user = new_user()
    body = {"name": "x", "dest_registry": {"id": registry_id}}
    calls = [
        ("GET", "/replication/policies", None),
        ("POST", "/replication/policies", body),
        ("GET", f"/replication/policies/{policy_id}", None),
        ("PUT", f"/replication/policies/{policy_id}", body),
        ("DELETE", f"/replication/policies/{policy_id}", None),
    ]
    for method, path, payload in calls:
        assert anon_client.request(method, path, json=payload).status_code == 401, path
        r = user.request(method, path, json=payload)
        assert r.status_code == 403, (path, r.text)
        assert r.json()["errors"][0]["code"] == "FORBIDDEN"
    assert admin_client.get(f"/replication/policies/{policy_id}").status_code == 200
    admin_client.delete(f"/replication/policies/{policy_id}")
    admin_client.delete(f"/registries/{registry_id}")


def _start(client, policy_id):
    return client.post("/replication/executions", json={"policy_id": policy_id})


def test_execution_of_a_policy_selecting_nothing(admin_client):
    registry_id = _registry(admin_client)
    policy_id = _policy(
        admin_client, registry_id, filters=[{"type": "name", "value": f"{unique('none')}/**"}]
    )
    r = _start(admin_client, policy_id)
    assert r.status_code == 201, r.text
    execution_id = int(r.headers["Location"].rsplit("/", 1)[1])
    got = admin_client.get(f"/replication/executions/{execution_id}").json()
    assert got["policy_id"] == policy_id and got["trigger"] == "manual"
    assert got["status"] == "Succeed" and got["total"] == 0
    listed = admin_client.get(
        "/replication/executions",
        params={"policy_id": policy_id, "status": "Succeed", "trigger": "manual"},
    )
    assert [e["id"] for e in listed.json()] == [execution_id]
    assert listed.headers["X-Total-Count"] == "1"
    assert (
        admin_client.get(
            "/replication/executions", params={"policy_id": policy_id, "status": "Failed"}
        ).json()
        == []
    )
    assert (
        admin_client.get(
            "/replication/executions", params={"policy_id": policy_id, "trigger": "scheduled"}
        ).json()
        == []
    )
    assert admin_client.get(f"/replication/executions/{execution_id}/tasks").json() == []
    assert admin_client.put(f"/replication/executions/{execution_id}").status_code == 200
    assert (
        admin_client.get(f"/replication/executions/{execution_id}/tasks/999999/log").status_code
        == 404
    )
    admin_client.delete(f"/replication/policies/{policy_id}")
    admin_client.delete(f"/registries/{registry_id}")


def test_execution_refusals(admin_client):
    registry_id = _registry(admin_client)
    disabled = _policy(admin_client, registry_id, enabled=False)
    r = _start(admin_client, disabled)
    assert r.status_code == 412 and "disabled" in r.json()["errors"][0]["message"]
    assert _start(admin_client, 999999).status_code == 404
    r = admin_client.post("/replication/executions", json={})
    assert r.status_code == 400 and "policy_id" in r.text
    # pull mode: a source that cannot be listed makes an execution that failed, saying why
    r = admin_client.post(
        "/registries",
        json={"name": unique("reg"), "type": "docker-registry", "url": "http://127.0.0.1:9"},
    )
    unreachable = int(r.headers["Location"].rsplit("/", 1)[1])
    pull = _policy(admin_client, registry_id, dest_registry=None, src_registry={"id": unreachable})
    r = _start(admin_client, pull)
    assert r.status_code == 201, r.text
    execution = admin_client.get(r.headers["Location"].removeprefix("/api/v2.0")).json()
    assert execution["status"] == "Failed" and execution["total"] == 0, execution
    assert "listing the source registry failed" in execution["status_text"], execution
    assert "cannot connect to 127.0.0.1:9" in execution["status_text"], execution
    # the re-run of failed tasks (an extension): nothing failed here, nothing changes
    assert admin_client.post(f"/replication/executions/{execution['id']}/retry").status_code == 200
    assert admin_client.get(f"/replication/executions/{execution['id']}").json() == execution
    assert admin_client.post("/replication/executions/999999/retry").status_code == 404
    for path in (
        "/replication/executions/999999",
        "/replication/executions/999999/tasks",
        "/replication/executions/999999/tasks/1/log",
    ):
        assert admin_client.get(path).status_code == 404, path
    assert admin_client.put("/replication/executions/999999").status_code == 404
    for params in ({"status": "Running"}, {"trigger": "EVENT"}, {"sort": "secret"}):
        assert admin_client.get("/replication/executions", params=params).status_code == 400, params
    for policy_id in (disabled, pull):
        admin_client.delete(f"/replication/policies/{policy_id}")
    admin_client.delete(f"/registries/{registry_id}")
    admin_client.delete(f"/registries/{unreachable}")


def test_executions_only_for_system_admins(admin_client, anon_client, new_user):
    registry_id = _registry(admin_client)
    policy_id = _policy(
        admin_client, registry_id, filters=[{"type": "name", "value": f"{unique('none')}/**"}]
    )
    r = _start(admin_client, policy_id)
    execution_id = int(r.headers["Location"].rsplit("/", 1)[1])
    _, _, _, user = new_user()
    calls = [
        ("GET", "/replication/executions", None),
        ("POST", "/replication/executions", {"policy_id": policy_id}),
        ("GET", f"/replication/executions/{execution_id}", None),
        ("PUT", f"/replication/executions/{execution_id}", None),
        ("POST", f"/replication/executions/{execution_id}/retry", None),
        ("GET", f"/replication/executions/{execution_id}/tasks", None),
        ("GET", f"/replication/executions/{execution_id}/tasks/1/log", None),
    ]
    for method, path, payload in calls:
        assert anon_client.request(method, path, json=payload).status_code == 401, path
        assert user.request(method, path, json=payload).status_code == 403, path
    admin_client.delete(f"/replication/policies/{policy_id}")
    admin_client.delete(f"/registries/{registry_id}")
