"""Webhook deliveries end to end: a real HTTP(S) receiver on loopback gets Harbor's payloads
(Default, CloudEvents, Slack) for pushes, pulls, deletes and quota refusals, with the auth
header; ``skip_cert_verify`` decides whether a self-signed receiver is accepted; a receiver
that hangs does not slow pushes. Each backend gets a server of its own with a short delivery
timeout (2 s), so a hanging receiver holds a job worker only briefly."""

from __future__ import annotations

import statistics
import time

import pytest
import requests

from tests.conftest import unique
from tests.support.clients import ApiClient
from tests.support.push import Pusher
from tests.support.servers import ADMIN_PASSWORD, postgres_database, running_server
from tests.support.tls import make_server_certificate
from tests.support.webhook_receiver import Receiver

pytestmark = pytest.mark.api
ENV = {"HARBOR_WEBHOOK_DELIVERY_TIMEOUT_SECONDS": "2"}


@pytest.fixture(scope="module")
def server(backend, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"webhooks-{backend}")
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


@pytest.fixture
def new_project(api):
    made = []

    def make(**fields) -> str:
        name = unique("hooks")
        body = {"project_name": name, "metadata": {"public": "false"}, **fields}
        r = api.post("/projects", json=body)
        assert r.status_code == 201, r.text
        made.append(name)
        return name

    yield make
    for name in made:
        api.delete(f"/projects/{name}")


def _policy(api, project: str, targets: list[dict], events: list[str]) -> int:
    r = api.post(
        f"/projects/{project}/webhook/policies",
        json={"name": unique("hook"), "targets": targets, "event_types": events, "enabled": True},
    )
    assert r.status_code == 201, r.text
    return int(r.headers["Location"].rsplit("/", 1)[1])


def _wait(predicate, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_default_payloads_for_push_pull_delete_with_auth_header(api, server, new_project):
    project = new_project()
    project_id = api.get(f"/projects/{project}").json()["project_id"]
    repo = f"{project}/app"
    with Receiver() as receiver:
        target = {"type": "http", "address": f"{receiver.url}/hook", "auth_header": "Bearer s3"}
        policy_id = _policy(
            api, project, [target], ["PUSH_ARTIFACT", "PULL_ARTIFACT", "DELETE_ARTIFACT"]
        )
        pushed = Pusher(server.url).image(repo, "v1")
        push = receiver.wait_for(1)[0]
        assert push.path == "/hook"
        assert push.headers["authorization"] == "Bearer s3"
        assert push.headers["content-type"] == "application/json"
        body = push.json()
        assert set(body) == {"type", "occur_at", "operator", "event_data"}
        assert body["type"] == "PUSH_ARTIFACT" and body["operator"] == "admin"
        assert isinstance(body["occur_at"], int) and abs(body["occur_at"] - time.time()) < 60
        host = server.url.split("://", 1)[1]
        assert body["event_data"]["resources"] == [
            {"digest": pushed.digest, "tag": "v1", "resource_url": f"{host}/{repo}:v1"}
        ]
        repository = body["event_data"]["repository"]
        assert isinstance(repository.pop("date_created"), int)
        assert repository == {
            "name": "app",
            "namespace": project,
            "repo_full_name": repo,
            "repo_type": "private",
        }
        # a pull by tag, then by digest
        http = requests.Session()
        http.auth = ("admin", ADMIN_PASSWORD)
        accept = {"Accept": "application/vnd.oci.image.manifest.v1+json"}
        for reference in ("v1", pushed.digest):
            r = http.get(f"{server.url}/v2/{repo}/manifests/{reference}", headers=accept)
            assert r.status_code == 200
        pulls = [d.json() for d in receiver.wait_for(3)[1:]]
        assert [p["type"] for p in pulls] == ["PULL_ARTIFACT", "PULL_ARTIFACT"]
        # two job workers deliver: in either order
        resources = sorted(
            (p["event_data"]["resources"][0] for p in pulls), key=lambda r: r["tag"] != "v1"
        )
        assert resources[0] == {
            "digest": pushed.digest,
            "tag": "v1",
            "resource_url": f"{host}/{repo}:v1",
        }
        assert resources[1] == {
            "digest": pushed.digest,
            "tag": pushed.digest,
            "resource_url": f"{host}/{repo}@{pushed.digest}",
        }
        # a HEAD is no pull
        http.head(f"{server.url}/v2/{repo}/manifests/v1", headers=accept)
        # a delete through the API
        r = api.delete(f"/projects/{project}/repositories/app/artifacts/{pushed.digest}")
        assert r.status_code == 200, r.text
        deleted = receiver.wait_for(4)[3].json()
        assert deleted["type"] == "DELETE_ARTIFACT"
        assert deleted["event_data"]["resources"][0]["digest"] == pushed.digest
        assert len(receiver.deliveries) == 4

    # executions, tasks and logs in Harbor's shapes
    base = f"/projects/{project}/webhook/policies/{policy_id}/executions"
    executions = _wait(
        lambda: (
            [e for e in api.get(base, params={"page_size": 50}).json() if e["status"] == "Success"]
            if len(api.get(base).json()) == 4
            else None
        ),
        what="four executions",
    )
    assert len(executions) == 4
    execution = executions[-1]  # newest first: the push is the oldest
    assert execution["vendor_type"] == "WEBHOOK" and execution["vendor_id"] == policy_id
    assert execution["trigger"] == "EVENT"
    assert execution["extra_attrs"]["event_type"] == "PUSH_ARTIFACT"
    assert execution["extra_attrs"]["payload"]["type"] == "PUSH_ARTIFACT"
    assert execution["metrics"]["task_count"] == 1
    assert execution["metrics"]["success_task_count"] == 1
    tasks = api.get(f"{base}/{execution['id']}/tasks").json()
    assert len(tasks) == 1 and tasks[0]["status"] == "Success" and tasks[0]["run_count"] == 1
    assert "auth_header" not in str(tasks[0]["extra_attrs"])
    log = api.get(f"{base}/{execution['id']}/tasks/{tasks[0]['id']}/log")
    assert log.status_code == 200 and log.headers["content-type"].startswith("text/plain")
    assert "the receiver answered 200" in log.text
    assert api.get(base, params={"q": "status=Success"}).headers["X-Total-Count"] == "4"
    triggers = api.get(f"/projects/{project}/webhook/lasttrigger").json()
    assert {t["event_type"] for t in triggers if t.get("last_trigger_time")} == {
        "PUSH_ARTIFACT",
        "PULL_ARTIFACT",
        "DELETE_ARTIFACT",
    }
    assert project_id  # the CloudEvents source names it (next test)


def test_cloudevents_and_slack_payloads(api, server, new_project):
    project = new_project()
    project_id = api.get(f"/projects/{project}").json()["project_id"]
    with Receiver() as cloud, Receiver() as slack:
        policy_id = _policy(
            api,
            project,
            [
                {"type": "http", "address": f"{cloud.url}/ce", "payload_format": "CloudEvents"},
                {"type": "slack", "address": f"{slack.url}/slack"},
            ],
            ["PUSH_ARTIFACT"],
        )
        pushed = Pusher(server.url).image(f"{project}/app", "v2")
        event = cloud.wait_for(1)[0]
        assert event.headers["content-type"] == "application/cloudevents+json"
        assert "authorization" not in event.headers
        body = event.json()
        assert body["specversion"] == "1.0"
        assert body["type"] == "harbor.artifact.pushed"
        assert body["source"] == f"/projects/{project_id}/webhook/policies/{policy_id}"
        assert body["datacontenttype"] == "application/json"
        assert body["operator"] == "admin"
        assert len(body["id"]) == 36 and body["requestid"]
        assert body["time"].endswith("Z")
        assert body["data"]["resources"][0]["digest"] == pushed.digest
        assert body["data"]["repository"]["repo_full_name"] == f"{project}/app"
        message = slack.wait_for(1)[0].json()
        texts = [block["text"]["text"] for block in message["blocks"]]
        assert texts[0] == "*Harbor webhook events*"
        assert texts[1] == "*event_type:* PUSH_ARTIFACT"
        assert texts[2].startswith("*occur_at:* <!date^")
        assert texts[3] == "*operator:* admin"
        assert texts[5].startswith("```") and pushed.digest in texts[5]


def test_quota_exceed_is_delivered(api, server, new_project):
    project = new_project(storage_limit=1024)
    with Receiver() as receiver:
        _policy(api, project, [{"type": "http", "address": receiver.url}], ["QUOTA_EXCEED"])
        r = requests.post(
            f"{server.url}/v2/{project}/app/blobs/uploads/",
            params={"digest": "sha256:" + "0" * 64},
            data=b"x" * 4096,
            auth=("admin", ADMIN_PASSWORD),
            timeout=30,
        )
        assert r.status_code >= 400
        body = receiver.wait_for(1)[0].json()
        assert body["type"] == "QUOTA_EXCEED"
        assert (
            "exceed the configured upper limit"
            in body["event_data"]["custom_attributes"]["Details"]
        )
        assert body["event_data"]["repository"]["namespace"] == project


def test_skip_cert_verify_decides_for_a_self_signed_receiver(api, server, new_project, tmp_path):
    cert = make_server_certificate(tmp_path / "tls", ["127.0.0.1"])
    project = new_project()
    with Receiver(cert=cert.cert, key=cert.key) as receiver:
        strict = _policy(
            api, project, [{"type": "http", "address": receiver.url}], ["PUSH_ARTIFACT"]
        )
        Pusher(server.url).image(f"{project}/app", "v1")
        base = f"/projects/{project}/webhook/policies/{strict}/executions"

        def failed_run():
            for execution in api.get(base).json():
                for task in api.get(f"{base}/{execution['id']}/tasks").json():
                    if (
                        task["run_count"] >= 1
                        and "failed"
                        in api.get(f"{base}/{execution['id']}/tasks/{task['id']}/log").text
                    ):
                        return execution, task
            return None

        execution, task = _wait(failed_run, what="a refused delivery")
        log = api.get(f"{base}/{execution['id']}/tasks/{task['id']}/log").text
        assert "CERTIFICATE_VERIFY_FAILED" in log
        assert receiver.deliveries == []
        api.delete(f"/projects/{project}/webhook/policies/{strict}")
        _policy(
            api,
            project,
            [{"type": "http", "address": receiver.url, "skip_cert_verify": True}],
            ["PUSH_ARTIFACT"],
        )
        Pusher(server.url).image(f"{project}/app", "v2")
        assert receiver.wait_for(1)[0].json()["event_data"]["resources"][0]["tag"] == "v2"


def test_a_hanging_receiver_does_not_slow_pushes(api, server, new_project):
    """Pushes whose deliveries hang (30 s receiver, 2 s delivery timeout) take as long as
    pushes whose deliveries are answered at once: the push only records the delivery. The
    pushes to the two projects alternate and their medians are compared, so a change in the
    machine's load (or one stalled push) affects both alike."""
    fast_project, hung_project = new_project(), new_project()
    pusher = Pusher(server.url)
    pusher.image(f"{fast_project}/warm", "t")  # warm the server up
    spent: dict[str, list[float]] = {fast_project: [], hung_project: []}
    with Receiver() as fast, Receiver(hang_seconds=30) as hung:
        _policy(api, fast_project, [{"type": "http", "address": fast.url}], ["PUSH_ARTIFACT"])
        _policy(api, hung_project, [{"type": "http", "address": hung.url}], ["PUSH_ARTIFACT"])
        for n in range(9):
            for project in (fast_project, hung_project):
                started = time.perf_counter()
                pusher.image(f"{project}/app", f"t{n}")
                spent[project].append(time.perf_counter() - started)
        hung.wait_for(1, arrived=True)  # deliveries were attempted meanwhile
        assert hung.deliveries == []  # and all of them are still hanging
        fast.wait_for(1)  # the answered ones arrive
    fast_median = statistics.median(spent[fast_project])
    hung_median = statistics.median(spent[hung_project])
    print(f"median push: {fast_median:.3f} s (fast receiver), {hung_median:.3f} s (hanging one)")
    assert hung_median <= fast_median * 1.5 + 0.1
