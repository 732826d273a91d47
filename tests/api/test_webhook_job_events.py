"""``TAG_RETENTION`` and ``REPLICATION`` webhook events: published when a retention or
replication execution finishes (the job service's finished hook), delivered to a loopback
receiver in Harbor's Default payload shape, on both backends."""

from __future__ import annotations

import time

import pytest

from tests.conftest import unique
from tests.support.clients import ApiClient
from tests.support.push import Pusher
from tests.support.servers import ADMIN_PASSWORD, postgres_database, running_server
from tests.support.webhook_receiver import Receiver

pytestmark = pytest.mark.api
ENV = {"HARBOR_WEBHOOK_DELIVERY_TIMEOUT_SECONDS": "2"}
FINAL = {"Success", "Error", "Stopped", "Succeed", "Failed"}


@pytest.fixture(scope="module")
def server(backend, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"job-events-{backend}")
    if backend == "postgresql":
        with postgres_database() as url, running_server(tmp, url, extra_env=ENV) as srv:
            yield srv
    else:
        with running_server(tmp, extra_env=ENV) as srv:
            yield srv


@pytest.fixture
def api(server):
    with ApiClient(server.url, ("admin", ADMIN_PASSWORD)) as client:
        yield client


def _project(api) -> tuple[str, int]:
    name = unique("jobev")
    r = api.post("/projects", json={"project_name": name, "metadata": {"public": "false"}})
    assert r.status_code == 201, r.text
    return name, api.get(f"/projects/{name}").json()["project_id"]


def _hook(api, project: str, address: str, event: str) -> None:
    r = api.post(
        f"/projects/{project}/webhook/policies",
        json={
            "name": unique("hook"),
            "targets": [{"type": "http", "address": address}],
            "event_types": [event],
            "enabled": True,
        },
    )
    assert r.status_code == 201, r.text


def _until_final(get) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = get()
        if found and found["status"] in FINAL:
            return found
        time.sleep(0.1)
    raise AssertionError(f"execution not finished: {found}")


def _retention_execution(api, location: str) -> dict | None:
    policy_id, execution_id = (int(part) for part in location.split("/")[-3::2])
    listed = api.get(f"/retentions/{policy_id}/executions", params={"page_size": 100}).json()
    return next((e for e in listed if e["id"] == execution_id), None)


def _selector(pattern: str, decoration: str) -> dict:
    return {"kind": "doublestar", "decoration": decoration, "pattern": pattern}


def test_a_real_retention_run_sends_tag_retention(api, server):
    project, project_id = _project(api)
    pusher = Pusher(server.url)
    pusher.image(f"{project}/app", "v1")
    pusher.image(f"{project}/app", "dev")
    rule = {
        "disabled": False,
        "action": "retain",
        "template": "always",
        "params": {},
        "tag_selectors": [{**_selector("v*", "matches"), "extras": '{"untagged": false}'}],
        "scope_selectors": {"repository": [_selector("**", "repoMatches")]},
    }
    r = api.post(
        "/retentions",
        json={
            "algorithm": "or",
            "rules": [rule],
            "trigger": {"kind": "Schedule", "settings": {"cron": ""}, "references": {}},
            "scope": {"level": "project", "ref": project_id},
        },
    )
    assert r.status_code == 201, r.text
    policy_id = int(r.headers["Location"].rsplit("/", 1)[1])
    with Receiver() as receiver:
        _hook(api, project, f"{receiver.url}/hook", "TAG_RETENTION")
        for dry_run in (True, False):  # a dry run sends nothing (as Harbor)
            r = api.post(f"/retentions/{policy_id}/executions", json={"dry_run": dry_run})
            assert r.status_code == 201, r.text
            _until_final(lambda location=r.headers["Location"]: _retention_execution(api, location))
        (delivery,) = receiver.wait_for(1)
        body = delivery.json()
        assert body["type"] == "TAG_RETENTION" and body["operator"] == "MANUAL"
        assert isinstance(body["occur_at"], int) and abs(body["occur_at"] - time.time()) < 60
        retention = body["event_data"]["retention"]
        assert retention["total"] == 2 and retention["retained"] == 1
        assert retention["project_name"] == project
        assert retention["retention_policy_id"] == policy_id
        assert retention["result"] == "SUCCESS"
        assert retention["harbor_hostname"] == server.url.split("://", 1)[1]
        assert [r["template"] for r in retention["retention_rule"]] == ["always"]
        assert len(receiver.deliveries) == 1
    api.delete(f"/retentions/{policy_id}")


def test_a_finished_replication_sends_replication(api, server):
    source, _ = _project(api)
    dest, _ = _project(api)
    pusher = Pusher(server.url)
    pusher.image(f"{source}/app", "v1")
    r = api.post(
        "/registries",
        json={
            "name": unique("self"),
            "type": "harbor",
            "url": server.url,
            "credential": {"type": "basic", "access_key": "admin", "access_secret": ADMIN_PASSWORD},
        },
    )
    assert r.status_code == 201, r.text
    registry_id = int(r.headers["Location"].rsplit("/", 1)[1])
    r = api.post(
        "/replication/policies",
        json={
            "name": unique("pol"),
            "dest_registry": {"id": registry_id},
            "dest_namespace": dest,
            "filters": [{"type": "name", "value": f"{source}/**"}],
        },
    )
    assert r.status_code == 201, r.text
    policy_id = int(r.headers["Location"].rsplit("/", 1)[1])
    with Receiver() as receiver:
        _hook(api, source, f"{receiver.url}/hook", "REPLICATION")
        r = api.post("/replication/executions", json={"policy_id": policy_id})
        assert r.status_code == 201, r.text
        execution_id = int(r.headers["Location"].rsplit("/", 1)[1])
        execution = _until_final(lambda: api.get(f"/replication/executions/{execution_id}").json())
        assert execution["status"] == "Succeed", execution
        (delivery,) = receiver.wait_for(1)
        body = delivery.json()
        assert body["type"] == "REPLICATION" and body["operator"] == "MANUAL"
        replication = body["event_data"]["replication"]
        host = server.url.split("://", 1)[1]
        assert replication["harbor_hostname"] == host
        assert replication["job_status"] == "Success"
        assert replication["artifact_type"] == "image"
        assert replication["authentication_type"] == "basic"
        assert replication["trigger_type"] == "manual"
        assert isinstance(replication["execution_timestamp"], int)
        assert replication["src_resource"]["namespace"] == source
        assert replication["dest_resource"]["endpoint"] == server.url
        assert replication["dest_resource"]["namespace"] == dest
        assert replication["successful_artifact"] == [
            {"type": "image", "status": "Success", "name_tag": f"{source}/app:v1"}
        ]
        assert "failed_artifact" not in replication
    api.delete(f"/replication/policies/{policy_id}")
    api.delete(f"/registries/{registry_id}")
