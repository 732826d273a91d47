"""Push-mode replication between two harbor-api instances on loopback and to Debian's
``docker-registry``: manual executions copy the selected artifacts with equal digests,
filters select, ``dest_namespace`` rewrites, ``override`` off leaves tags alone."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from tests.support.clients import ApiClient
from tests.support.images import (
    MT_CONFIG,
    MT_INDEX,
    MT_LAYER,
    MT_MANIFEST,
    canonical_json,
    sha256_digest,
    tar_bytes,
)
from tests.support.registry_clients import (
    Registry,
    distribution_registry,
    push_image,
    upload_blob,
)
from tests.support.servers import ADMIN_PASSWORD, running_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ADMIN = ("admin", ADMIN_PASSWORD)


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("rep-src")) as server:
        yield server


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("rep-dst")) as server:
        yield server


@pytest.fixture(scope="module")
def src_api(source):
    with ApiClient(source.url, ADMIN) as client:
        yield client


@pytest.fixture(scope="module")
def dst_api(target):
    with ApiClient(target.url, ADMIN) as client:
        yield client


def _project(api) -> str:
    name = f"rep-{uuid.uuid4().hex[:8]}"
    r = api.post("/projects", json={"project_name": name, "metadata": {"public": "false"}})
    assert r.status_code == 201, r.text
    return name


def _registry(api, url: str, kind: str = "harbor") -> int:
    r = api.post(
        "/registries",
        json={
            "name": f"to-{uuid.uuid4().hex[:8]}",
            "type": kind,
            "url": url,
            "credential": {"type": "basic", "access_key": ADMIN[0], "access_secret": ADMIN[1]},
        },
    )
    assert r.status_code == 201, r.text
    return int(r.headers["Location"].rsplit("/", 1)[1])


def _run(api, registry_id: int, **fields) -> tuple[dict, list[dict]]:
    r = api.post(
        "/replication/policies",
        json={"name": f"p-{uuid.uuid4().hex[:8]}", "dest_registry": {"id": registry_id}, **fields},
    )
    assert r.status_code == 201, r.text
    policy_id = int(r.headers["Location"].rsplit("/", 1)[1])
    r = api.post("/replication/executions", json={"policy_id": policy_id})
    assert r.status_code == 201, r.text
    execution_id = int(r.headers["Location"].rsplit("/", 1)[1])
    deadline = time.monotonic() + 90
    while True:
        execution = api.get(f"/replication/executions/{execution_id}").json()
        if execution["status"] != "InProgress" or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    r = api.get(f"/replication/executions/{execution_id}/tasks")
    assert r.status_code == 200, r.text
    tasks = r.json()
    listed = api.get("/replication/executions", params={"policy_id": policy_id}).json()
    assert [e["id"] for e in listed] == [execution_id]
    assert execution["policy_id"] == policy_id and execution["trigger"] == "manual"
    return execution, tasks


def _log(api, task: dict) -> str:
    r = api.get(f"/replication/executions/{task['execution_id']}/tasks/{task['id']}/log")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    return r.text


def _digest(registry: Registry, repo: str, tag: str) -> str | None:
    r = registry.v2(
        "HEAD",
        f"{repo}/manifests/{tag}",
        headers={
            "Accept": "application/vnd.oci.image.manifest.v1+json, "
            "application/vnd.docker.distribution.manifest.v2+json"
        },
    )
    return r.headers.get("Docker-Content-Digest") if r.status_code == 200 else None


def test_push_mode_to_another_harbor_api(source, target, src_api, dst_api):
    src, dst = Registry("harbor", source), Registry("harbor", target)
    project = _project(src_api)
    keep, _ = push_image(src, f"{project}/app", "v1")
    push_image(src, f"{project}/app", "dev")
    other, _ = push_image(src, f"{project}/other", "v1")
    dest_project = _project(dst_api)
    registry_id = _registry(src_api, target.url)
    execution, tasks = _run(
        src_api,
        registry_id,
        dest_namespace=dest_project,
        filters=[{"type": "name", "value": f"{project}/app"}, {"type": "tag", "value": "v*"}],
    )
    assert execution["status"] == "Succeed", (execution, [_log(src_api, t) for t in tasks])
    assert execution["total"] == 1 and execution["succeed"] == 1
    assert [t["src_resource"] for t in tasks] == [f"{project}/app:v1"]
    assert tasks[0]["dst_resource"] == f"{dest_project}/app:v1"
    assert tasks[0]["status"] == "Succeed" and tasks[0]["resource_type"] == "image"
    assert _digest(dst, f"{dest_project}/app", "v1") == keep
    assert _digest(dst, f"{dest_project}/app", "dev") is None  # the tag filter
    assert _digest(dst, f"{dest_project}/other", "v1") is None  # the name filter
    log = _log(src_api, tasks[0])
    assert "blobs sent: 2" in log and "tag v1: set to" in log
    assert tasks[0]["bytes_copied"] > 0 and f"bytes sent: {tasks[0]['bytes_copied']}" in log
    # again: nothing re-sent, the tag already right
    execution, tasks = _run(
        src_api,
        registry_id,
        dest_namespace=dest_project,
        filters=[{"type": "name", "value": f"{project}/app"}, {"type": "tag", "value": "v1"}],
    )
    assert execution["status"] == "Succeed"
    log = _log(src_api, tasks[0])
    assert "blobs sent: 0" in log and "tag v1: already points at" in log
    assert other


def test_override_off_leaves_destination_tags(source, target, src_api, dst_api):
    src, dst = Registry("harbor", source), Registry("harbor", target)
    project, dest_project = _project(src_api), _project(dst_api)
    mine, _ = push_image(src, f"{project}/app", "v1")
    theirs, _ = push_image(dst, f"{dest_project}/app", "v1")
    registry_id = _registry(src_api, target.url)
    filters = [{"type": "name", "value": f"{project}/**"}]
    execution, tasks = _run(
        src_api, registry_id, dest_namespace=dest_project, filters=filters, override=False
    )
    assert execution["status"] == "Succeed"
    assert _digest(dst, f"{dest_project}/app", "v1") == theirs
    assert "does not override" in _log(src_api, tasks[0])
    execution, _ = _run(
        src_api, registry_id, dest_namespace=dest_project, filters=filters, override=True
    )
    assert execution["status"] == "Succeed"
    assert _digest(dst, f"{dest_project}/app", "v1") == mine


def test_push_mode_to_docker_registry(source, src_api, tmp_path):
    src = Registry("harbor", source)
    project = _project(src_api)
    digest, _ = push_image(src, f"{project}/tool", "1.0")
    with distribution_registry(tmp_path) as dist:
        registry_id = _registry(src_api, f"http://{dist.host}", kind="docker-registry")
        execution, tasks = _run(
            src_api,
            registry_id,
            dest_namespace="mirror",
            dest_namespace_replace_count=0,
            filters=[{"type": "name", "value": f"{project}/*"}],
        )
        assert execution["status"] == "Succeed", [_log(src_api, t) for t in tasks]
        assert tasks[0]["dst_resource"] == f"mirror/{project}/tool:1.0"
        reg = Registry("distribution", dist, creds=("", ""))
        assert _digest(reg, f"mirror/{project}/tool", "1.0") == digest


def _wait_execution(api, policy_id: int, trigger: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = api.get(
            "/replication/executions", params={"policy_id": policy_id, "trigger": trigger}
        ).json()
        if listed and listed[0]["status"] != "InProgress":
            return listed[0]
        time.sleep(0.3)
    raise AssertionError(f"no finished {trigger} execution of policy {policy_id}")


def test_event_based_replicates_each_push(source, target, src_api, dst_api):
    src, dst = Registry("harbor", source), Registry("harbor", target)
    project, dest_project = _project(src_api), _project(dst_api)
    registry_id = _registry(src_api, target.url)
    r = src_api.post(
        "/replication/policies",
        json={
            "name": f"ev-{uuid.uuid4().hex[:8]}",
            "dest_registry": {"id": registry_id},
            "dest_namespace": dest_project,
            "trigger": {"type": "event_based"},
            "filters": [{"type": "name", "value": f"{project}/**"}],
        },
    )
    assert r.status_code == 201, r.text
    policy_id = int(r.headers["Location"].rsplit("/", 1)[1])
    digest, _ = push_image(src, f"{project}/app", "v7")
    execution = _wait_execution(src_api, policy_id, "event_based")
    assert execution["status"] == "Succeed" and execution["total"] == 1, execution
    assert _digest(dst, f"{dest_project}/app", "v7") == digest


def test_scheduled_trigger_fires_on_the_job_service(source, target, src_api, dst_api):
    src, dst = Registry("harbor", source), Registry("harbor", target)
    project, dest_project = _project(src_api), _project(dst_api)
    digest, _ = push_image(src, f"{project}/cron", "v1")
    registry_id = _registry(src_api, target.url)
    r = src_api.post(
        "/replication/policies",
        json={
            "name": f"cr-{uuid.uuid4().hex[:8]}",
            "dest_registry": {"id": registry_id},
            "dest_namespace": dest_project,
            "trigger": {"type": "scheduled", "trigger_settings": {"cron": "* * * * * *"}},
            "filters": [{"type": "name", "value": f"{project}/**"}],
        },
    )
    assert r.status_code == 201, r.text
    policy_id = int(r.headers["Location"].rsplit("/", 1)[1])
    execution = _wait_execution(src_api, policy_id, "scheduled")
    assert execution["status"] == "Succeed", execution
    assert _digest(dst, f"{dest_project}/cron", "v1") == digest
    assert src_api.delete(f"/replication/policies/{policy_id}").status_code == 200
    time.sleep(1.5)  # let an execution started just before the delete show up
    count = len(src_api.get("/replication/executions", params={"policy_id": policy_id}).json())
    time.sleep(2.5)  # the schedule went with the policy: no more executions
    assert (
        len(src_api.get("/replication/executions", params={"policy_id": policy_id}).json()) == count
    )


def _push_index(registry: Registry, repo: str, tag: str) -> tuple[str, list[str]]:
    """Two platform images pushed by digest, then an OCI index tagged ``tag``."""
    children = []
    for arch in ("amd64", "arm64"):
        layer = tar_bytes({"arch.txt": f"{arch} {uuid.uuid4()}".encode()})
        layer_digest = upload_blob(registry, repo, layer)
        config = canonical_json(
            {
                "architecture": arch,
                "os": "linux",
                "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
            }
        )
        config_digest = upload_blob(registry, repo, config)
        manifest = canonical_json(
            {
                "schemaVersion": 2,
                "mediaType": MT_MANIFEST,
                "config": {"mediaType": MT_CONFIG, "digest": config_digest, "size": len(config)},
                "layers": [{"mediaType": MT_LAYER, "digest": layer_digest, "size": len(layer)}],
            }
        )
        digest = sha256_digest(manifest)
        r = registry.v2(
            "PUT",
            f"{repo}/manifests/{digest}",
            data=manifest,
            headers={"Content-Type": MT_MANIFEST},
        )
        assert r.status_code == 201, r.text
        children.append((digest, len(manifest), arch))
    index = canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": MT_INDEX,
            "manifests": [
                {
                    "mediaType": MT_MANIFEST,
                    "digest": d,
                    "size": n,
                    "platform": {"architecture": a, "os": "linux"},
                }
                for d, n, a in children
            ],
        }
    )
    r = registry.v2(
        "PUT", f"{repo}/manifests/{tag}", data=index, headers={"Content-Type": MT_INDEX}
    )
    assert r.status_code == 201, r.text
    return sha256_digest(index), [d for d, _, _ in children]


def test_multi_arch_index_travels_with_its_children(source, target, src_api, dst_api):
    src, dst = Registry("harbor", source), Registry("harbor", target)
    project, dest_project = _project(src_api), _project(dst_api)
    index, children = _push_index(src, f"{project}/multi", "latest")
    registry_id = _registry(src_api, target.url)
    execution, tasks = _run(
        src_api,
        registry_id,
        dest_namespace=dest_project,
        filters=[{"type": "name", "value": f"{project}/**"}],
    )
    assert execution["status"] == "Succeed", [_log(src_api, t) for t in tasks]
    assert [t["src_resource"] for t in tasks] == [f"{project}/multi:latest"]  # one task
    r = dst.v2("HEAD", f"{dest_project}/multi/manifests/latest", headers={"Accept": MT_INDEX})
    assert r.status_code == 200 and r.headers["Docker-Content-Digest"] == index
    for child in children:
        r = dst.v2(
            "HEAD", f"{dest_project}/multi/manifests/{child}", headers={"Accept": MT_MANIFEST}
        )
        assert r.status_code == 200, child


def test_destination_killed_mid_copy_fails_then_retry_of_failed_tasks_completes(
    source, src_api, tmp_path
):
    src = Registry("harbor", source)
    project = _project(src_api)
    digest, _ = push_image(src, f"{project}/slow", "v1")
    with distribution_registry(tmp_path) as dist:
        registry_id = _registry(src_api, f"http://{dist.host}", kind="docker-registry")
        body = {
            "name": f"k-{uuid.uuid4().hex[:8]}",
            "dest_registry": {"id": registry_id},
            "filters": [{"type": "name", "value": f"{project}/**"}],
            "speed": 2,
        }  # 2 KB/s: the ~10 KB layer takes seconds
        r = src_api.post("/replication/policies", json=body)
        policy_id = int(r.headers["Location"].rsplit("/", 1)[1])
        r = src_api.post("/replication/executions", json={"policy_id": policy_id})
        execution_id = int(r.headers["Location"].rsplit("/", 1)[1])
        deadline = time.monotonic() + 10
        while not (src_api.get(f"/replication/executions/{execution_id}/tasks").json() or [{}])[
            0
        ].get("bytes_copied"):
            assert time.monotonic() < deadline, "no progress reported mid-copy"
            time.sleep(0.2)
        assert (
            src_api.get(f"/replication/executions/{execution_id}").json()["status"] == "InProgress"
        )  # the layer is streaming
        dist.kill()
        r = src_api.delete(f"/replication/policies/{policy_id}")  # Harbor: not while running
        assert r.status_code == 412 and "in progress" in r.text, r.text
        execution = _wait_execution(src_api, policy_id, "manual", timeout=90)
        assert execution["status"] == "Failed" and execution["failed"] == 1, execution
        task = src_api.get(f"/replication/executions/{execution_id}/tasks").json()[0]
        assert task["status"] == "Failed" and task["status_message"]
        log = _log(src_api, task)
        assert f"cannot connect to {dist.host}" in log, log
        assert (
            src_api.get(
                "/replication/executions", params={"policy_id": policy_id, "status": "Failed"}
            ).json()[0]["id"]
            == execution_id
        )
        dist.start()
        # the extension: re-run only the failed task of the same execution (its snapshot,
        # 2 KB/s still: the layer takes seconds again)
        r = src_api.post(f"/replication/executions/{execution_id}/retry")
        assert r.status_code == 200, r.text
        execution = src_api.get(f"/replication/executions/{execution_id}").json()
        assert execution["status"] == "InProgress" and execution["in_progress"] == 1, execution
        deadline = time.monotonic() + 60
        while execution["status"] == "InProgress":
            assert time.monotonic() < deadline, execution
            time.sleep(0.3)
            execution = src_api.get(f"/replication/executions/{execution_id}").json()
        assert execution["status"] == "Succeed", execution
        assert execution["total"] == 1 and execution["succeed"] == 1 and execution["failed"] == 0
        task = src_api.get(f"/replication/executions/{execution_id}/tasks").json()[0]
        assert task["status"] == "Succeed" and task["bytes_copied"] > 0
        log = _log(src_api, task)
        assert f"cannot connect to {dist.host}" in log and "tag v1: set to" in log, log
        reg = Registry("distribution", dist, creds=("", ""))
        assert _digest(reg, f"{project}/slow", "v1") == digest


def test_deletion_sync_removes_the_mapped_artifact(source, target, src_api, dst_api):
    src, dst = Registry("harbor", source), Registry("harbor", target)
    project, dest_project = _project(src_api), _project(dst_api)
    registry_id = _registry(src_api, target.url)
    r = src_api.post(
        "/replication/policies",
        json={
            "name": f"del-{uuid.uuid4().hex[:8]}",
            "dest_registry": {"id": registry_id},
            "dest_namespace": dest_project,
            "trigger": {"type": "event_based"},
            "replicate_deletion": True,
            "filters": [{"type": "name", "value": f"{project}/**"}],
        },
    )
    policy_id = int(r.headers["Location"].rsplit("/", 1)[1])
    digest, _ = push_image(src, f"{project}/gone", "v1")
    _wait_execution(src_api, policy_id, "event_based")
    assert _digest(dst, f"{dest_project}/gone", digest) == digest
    assert src.v2("DELETE", f"{project}/gone/manifests/{digest}").status_code == 202
    deadline = time.monotonic() + 60
    while _digest(dst, f"{dest_project}/gone", digest) is not None:
        assert time.monotonic() < deadline, "the destination still has the artifact"
        time.sleep(0.3)
    tasks = src_api.get(
        f"/replication/executions/{_wait_execution(src_api, policy_id, 'event_based')['id']}/tasks"
    ).json()
    assert tasks[0]["operation"] == "deletion" and tasks[0]["status"] == "Succeed"


def test_harborapi_registry_policy_execution_tasks_log(source, target, src_api, dst_api):
    from harborapi import HarborAsyncClient
    from harborapi.models import Registry as HarborRegistry
    from harborapi.models import RegistryCredential, ReplicationFilter, ReplicationPolicy

    src = Registry("harbor", source)
    project, dest_project = _project(src_api), _project(dst_api)
    digest, _ = push_image(src, f"{project}/hapi", "v1")
    client = HarborAsyncClient(url=f"{source.url}/api/v2.0", username=ADMIN[0], secret=ADMIN[1])

    async def scenario():
        location = await client.create_registry(
            HarborRegistry(
                name=f"hapi-{uuid.uuid4().hex[:8]}",
                type="harbor",
                url=target.url,
                credential=RegistryCredential(
                    type="basic", access_key=ADMIN[0], access_secret=ADMIN[1]
                ),
            )
        )
        registry_id = int(location.rsplit("/", 1)[1])
        location = await client.create_replication_policy(
            ReplicationPolicy(
                name=f"hapi-{uuid.uuid4().hex[:8]}",
                dest_registry=HarborRegistry(id=registry_id),
                dest_namespace=dest_project,
                enabled=True,
                filters=[ReplicationFilter(type="name", value=f"{project}/**")],
            )
        )
        policy_id = int(location.rsplit("/", 1)[1])
        policy = await client.get_replication_policy(policy_id)
        assert policy.dest_registry.id == registry_id and policy.src_registry.id == 0
        location = await client.start_replication(policy_id)
        execution_id = int(location.rsplit("/", 1)[1])
        for _ in range(300):
            execution = await client.get_replication(execution_id)
            if execution.status != "InProgress":
                break
            await asyncio.sleep(0.3)
        executions = await client.get_replications(policy_id=policy_id)
        tasks = await client.get_replication_tasks(execution_id)
        log = await client.get_replication_task_log(execution_id, tasks[0].id)
        return execution, executions, tasks, log

    execution, executions, tasks, log = asyncio.run(scenario())
    assert execution.status == "Succeed" and execution.succeed == 1
    assert [e.id for e in executions] == [execution.id]
    assert tasks[0].status == "Succeed" and tasks[0].dst_resource == f"{dest_project}/hapi:v1"
    assert "tag v1: set to " + digest in log
