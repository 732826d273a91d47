"""Pull-mode replication (a policy with ``src_registry``): from Debian's ``docker-registry``
and from another harbor-api into this registry, through its own upload and manifest
services. Filters (name, tag, label), ``dest_namespace`` rewriting (the project created
when missing), ``override`` off, a multi-arch index with its children, blobs already here
never fetched again, a scheduled trigger, and ``speed`` measured."""

from __future__ import annotations

import os
import re
import time
import uuid

import pytest

from tests.e2e.test_replication_between_registries import _push_index
from tests.support.clients import ApiClient
from tests.support.images import MT_CONFIG, MT_INDEX, MT_LAYER, MT_MANIFEST, canonical_json
from tests.support.registry_clients import Registry, distribution_registry, push_image, upload_blob
from tests.support.servers import ADMIN_PASSWORD, running_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ADMIN = ("admin", ADMIN_PASSWORD)
ACCEPT = f"{MT_MANIFEST}, {MT_INDEX}"


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    """This registry: the pulls land here."""
    with running_server(tmp_path_factory.mktemp("pull-local")) as server:
        yield server


@pytest.fixture(scope="module")
def remote(tmp_path_factory):
    """Another harbor-api: a source."""
    with running_server(tmp_path_factory.mktemp("pull-remote")) as server:
        yield server


@pytest.fixture(scope="module")
def api(local):
    with ApiClient(local.url, ADMIN) as client:
        yield client


@pytest.fixture(scope="module")
def remote_api(remote):
    with ApiClient(remote.url, ADMIN) as client:
        yield client


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    with distribution_registry(tmp_path_factory.mktemp("pull-dist")) as server:
        yield server


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _project(client) -> str:
    name = _name("pull")
    r = client.post("/projects", json={"project_name": name, "metadata": {"public": "false"}})
    assert r.status_code == 201, r.text
    return name


def _registry(client, url: str, kind: str, creds: tuple[str, str] | None = ADMIN) -> int:
    body = {"name": _name("from"), "type": kind, "url": url}
    if creds:
        body["credential"] = {"type": "basic", "access_key": creds[0], "access_secret": creds[1]}
    r = client.post("/registries", json=body)
    assert r.status_code == 201, r.text
    return int(r.headers["Location"].rsplit("/", 1)[1])


def _policy(client, registry_id: int, **fields) -> int:
    body = {"name": _name("p"), "src_registry": {"id": registry_id}, **fields}
    r = client.post("/replication/policies", json=body)
    assert r.status_code == 201, r.text
    return int(r.headers["Location"].rsplit("/", 1)[1])


def _wait(client, execution_id: int, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        execution = client.get(f"/replication/executions/{execution_id}").json()
        if execution["status"] != "InProgress":
            return execution
        assert time.monotonic() < deadline, execution
        time.sleep(0.2)


def _run(client, policy_id: int) -> tuple[dict, list[dict]]:
    r = client.post("/replication/executions", json={"policy_id": policy_id})
    assert r.status_code == 201, r.text
    execution = _wait(client, int(r.headers["Location"].rsplit("/", 1)[1]))
    tasks = client.get(f"/replication/executions/{execution['id']}/tasks").json()
    return execution, tasks


def _log(client, task: dict) -> str:
    r = client.get(f"/replication/executions/{task['execution_id']}/tasks/{task['id']}/log")
    assert r.status_code == 200, r.text
    return r.text


def _digest(registry: Registry, repo: str, ref: str) -> str | None:
    r = registry.v2("HEAD", f"{repo}/manifests/{ref}", headers={"Accept": ACCEPT})
    return r.headers.get("Docker-Content-Digest") if r.status_code == 200 else None


def test_pull_from_docker_registry_with_filters_and_namespace(local, api, dist):
    here, there = Registry("harbor", local), Registry("distribution", dist, creds=("", ""))
    prefix = _name("src")
    keep, _ = push_image(there, f"{prefix}/app", "v1")
    push_image(there, f"{prefix}/app", "dev")
    push_image(there, f"{prefix}/other", "v1")
    namespace = _name("made")  # not a project yet: the execution creates it
    registry_id = _registry(api, f"http://{dist.host}", "docker-registry", creds=None)
    policy_id = _policy(
        api,
        registry_id,
        dest_namespace=namespace,
        dest_namespace_replace_count=1,
        filters=[{"type": "name", "value": f"{prefix}/app"}, {"type": "tag", "value": "v*"}],
    )
    execution, tasks = _run(api, policy_id)
    assert execution["status"] == "Succeed", [_log(api, t) for t in tasks]
    assert execution["trigger"] == "manual" and execution["total"] == 1
    assert tasks[0]["src_resource"] == f"{prefix}/app:v1"
    assert tasks[0]["dst_resource"] == f"{namespace}/app:v1"
    assert _digest(here, f"{namespace}/app", "v1") == keep
    assert _digest(here, f"{namespace}/app", "dev") is None  # the tag filter
    assert _digest(here, f"{namespace}/other", "v1") is None  # the name filter
    log = _log(api, tasks[0])
    assert f"created namespace {namespace}" in log and "blobs sent: 2" in log, log
    assert tasks[0]["bytes_copied"] > 0
    project = api.get(f"/projects/{namespace}").json()
    assert project["metadata"]["public"] == "false"
    summary = api.get(f"/projects/{namespace}/summary").json()
    assert summary["repo_count"] == 1 and summary["quota"]["used"]["storage"] > 0, summary
    # again: the blobs are here, nothing is fetched, the tag already right
    execution, tasks = _run(api, policy_id)
    assert execution["status"] == "Succeed"
    log = _log(api, tasks[0])
    assert "blobs sent: 0, already there: 2" in log and "tag v1: already points at" in log, log


def test_pull_from_harbor_api_label_filter_and_override(local, remote, api, remote_api):
    here, there = Registry("harbor", local), Registry("harbor", remote)
    source = _project(remote_api)
    labelled, _ = push_image(there, f"{source}/app", "v1")
    push_image(there, f"{source}/app", "v2")
    label = _name("prod")
    r = remote_api.post("/labels", json={"name": label, "scope": "g"})
    label_id = int(r.headers["Location"].rsplit("/", 1)[1])
    r = remote_api.post(
        f"/projects/{source}/repositories/app/artifacts/{labelled}/labels", json={"id": label_id}
    )
    assert r.status_code == 200, r.text
    dest = _project(api)
    theirs, _ = push_image(here, f"{dest}/app", "v1")  # override off: left alone
    registry_id = _registry(api, remote.url, "harbor")
    filters = [
        {"type": "name", "value": f"{source}/**"},
        {"type": "label", "value": [label]},
    ]
    policy_id = _policy(api, registry_id, dest_namespace=dest, filters=filters, override=False)
    execution, tasks = _run(api, policy_id)
    assert execution["status"] == "Succeed", [_log(api, t) for t in tasks]
    assert [t["src_resource"] for t in tasks] == [f"{source}/app:v1"]  # the label filter
    assert _digest(here, f"{dest}/app", "v1") == theirs
    assert "does not override" in _log(api, tasks[0])
    assert _digest(here, f"{dest}/app", labelled) == labelled  # the artifact came, untagged
    body = {"src_registry": {"id": registry_id}, "dest_namespace": dest, "filters": filters}
    r = api.put(
        f"/replication/policies/{policy_id}",
        json={**body, "name": _name("p"), "override": True},
    )
    assert r.status_code == 200, r.text
    execution, _ = _run(api, policy_id)
    assert execution["status"] == "Succeed"
    assert _digest(here, f"{dest}/app", "v1") == labelled


def test_pull_a_multi_arch_index_with_its_children_by_chunk(local, remote, api, remote_api):
    here, there = Registry("harbor", local), Registry("harbor", remote)
    source, dest = _project(remote_api), _project(api)
    index, children = _push_index(there, f"{source}/multi", "latest")
    registry_id = _registry(api, remote.url, "harbor")
    policy_id = _policy(
        api,
        registry_id,
        dest_namespace=dest,
        copy_by_chunk=True,
        filters=[{"type": "name", "value": f"{source}/**"}],
    )
    execution, tasks = _run(api, policy_id)
    assert execution["status"] == "Succeed", [_log(api, t) for t in tasks]
    assert [t["src_resource"] for t in tasks] == [f"{source}/multi:latest"]  # one task
    assert _digest(here, f"{dest}/multi", "latest") == index
    for child in children:
        assert _digest(here, f"{dest}/multi", child) == child
    assert "manifests: 3; blobs sent: 4" in _log(api, tasks[0])


def test_scheduled_pull(local, api, dist):
    here, there = Registry("harbor", local), Registry("distribution", dist, creds=("", ""))
    prefix, dest = _name("cron"), _project(api)
    digest, _ = push_image(there, f"{prefix}/app", "v1")
    registry_id = _registry(api, f"http://{dist.host}", "docker-registry", creds=None)
    policy_id = _policy(
        api,
        registry_id,
        dest_namespace=dest,
        trigger={"type": "scheduled", "trigger_settings": {"cron": "* * * * * *"}},
        filters=[{"type": "name", "value": f"{prefix}/**"}],
    )
    deadline = time.monotonic() + 30
    while True:
        listed = api.get(
            "/replication/executions", params={"policy_id": policy_id, "trigger": "scheduled"}
        ).json()
        if listed and listed[-1]["status"] != "InProgress":
            break
        assert time.monotonic() < deadline, listed
        time.sleep(0.3)
    assert listed[-1]["status"] == "Succeed", listed
    assert _digest(here, f"{dest}/app", "v1") == digest
    r = api.put(
        f"/replication/policies/{policy_id}",
        json={"name": _name("p"), "src_registry": {"id": registry_id}, "dest_namespace": dest},
    )
    assert r.status_code == 200  # manual now: the schedule is gone


def _push_big(registry: Registry, repo: str, size: int) -> tuple[str, str, int]:
    """An image of one random layer of ``size`` bytes, tagged v1: (digest, layer, size)."""
    layer = os.urandom(size)
    layer_digest = upload_blob(registry, repo, layer)
    config = canonical_json({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers"}})
    config_digest = upload_blob(registry, repo, config)
    manifest = canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": MT_MANIFEST,
            "config": {"mediaType": MT_CONFIG, "digest": config_digest, "size": len(config)},
            "layers": [{"mediaType": MT_LAYER, "digest": layer_digest, "size": size}],
        }
    )
    r = registry.v2(
        "PUT", f"{repo}/manifests/v1", data=manifest, headers={"Content-Type": MT_MANIFEST}
    )
    assert r.status_code == 201, r.text
    return r.headers["Docker-Content-Digest"], layer_digest, size


def test_speed_caps_a_pull(local, api, dist):
    """A 2 MiB layer at 512 KB/s takes about 4 s (at least 3.5 s)."""
    here, there = Registry("harbor", local), Registry("distribution", dist, creds=("", ""))
    repo, dest = f"{_name('speed')}/big", _project(api)
    digest, _, size = _push_big(there, repo, 2 * 1024 * 1024)
    registry_id = _registry(api, f"http://{dist.host}", "docker-registry", creds=None)
    policy_id = _policy(
        api, registry_id, dest_namespace=dest, speed=512, filters=[{"type": "name", "value": repo}]
    )
    started = time.monotonic()
    execution, tasks = _run(api, policy_id)
    elapsed = time.monotonic() - started
    assert execution["status"] == "Succeed", [_log(api, t) for t in tasks]
    assert elapsed >= 3.5, elapsed
    assert _digest(here, f"{dest}/big", "v1") == digest
    assert tasks[0]["bytes_copied"] > size


def test_chunked_pull_resumes_from_the_last_acknowledged_chunk(local, api, tmp_path):
    """copy_by_chunk (8 MiB chunks into an upload session here, each fetched with a Range
    request): the source killed after the first chunk of a 24 MiB layer, so a later chunk
    cannot be fetched and the run fails; with the source back, the task's next run finds
    the session where the last acknowledged chunk left it and fetches only the rest."""
    here = Registry("harbor", local)
    dest = _project(api)
    chunk = 8 * 1024 * 1024
    with distribution_registry(tmp_path) as dist:
        there = Registry("distribution", dist, creds=("", ""))
        repo = f"{_name('chunky')}/layer"
        digest, layer_digest, size = _push_big(there, repo, 3 * chunk)
        registry_id = _registry(api, f"http://{dist.host}", "docker-registry", creds=None)
        policy_id = _policy(
            api,
            registry_id,
            dest_namespace=dest,
            copy_by_chunk=True,
            speed=4096,  # 24 MiB in about 6 s
            filters=[{"type": "name", "value": repo}],
        )
        r = api.post("/replication/executions", json={"policy_id": policy_id})
        path = r.headers["Location"].removeprefix("/api/v2.0")
        deadline = time.monotonic() + 20
        while (api.get(f"{path}/tasks").json() or [{}])[0].get("bytes_copied", 0) <= chunk + 2**19:
            assert time.monotonic() < deadline, "no progress past the first chunk"
            time.sleep(0.1)
        dist.kill()  # past the first chunk: it is durable here
        deadline = time.monotonic() + 20
        while "retry in" not in api.get(f"{path}/tasks").json()[0]["status_message"]:
            assert time.monotonic() < deadline, "the run did not fail"
            time.sleep(0.1)
        dist.start()
        execution = _wait(api, int(path.rsplit("/", 1)[1]), timeout=60)
        task = api.get(f"{path}/tasks").json()[0]
        log = _log(api, task)
        assert execution["status"] == "Succeed", log
        resumed = re.search(rf"blob {layer_digest}: resumed at byte (\d+)", log)
        assert resumed and int(resumed.group(1)) in (chunk, 2 * chunk), log
        assert task["bytes_copied"] == size - int(resumed.group(1)), task  # only the rest
        assert _digest(here, f"{dest}/layer", "v1") == digest
