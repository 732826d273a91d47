"""The source restarted mid-execution: a pull-mode execution from Debian's
``docker-registry`` or from another harbor-api, whose source is killed while its tasks
copy (each held to a few seconds by ``speed``) and started again on the same port and
data. The interrupted tasks and those that found the source down are retried with
backoff (through the process's pooled connections and cached tokens, which must survive
the restart), and the execution finishes with every artifact under its source digest."""

from __future__ import annotations

import time
from contextlib import contextmanager

import pytest

from tests.e2e.test_replication_pull_mode import (
    _digest,
    _log,
    _name,
    _policy,
    _project,
    _push_big,
    _registry,
    _wait,
)
from tests.support.clients import ApiClient
from tests.support.registry_clients import Registry, distribution_registry
from tests.support.servers import ADMIN_PASSWORD, running_server

pytestmark = [pytest.mark.e2e]
ADMIN = ("admin", ADMIN_PASSWORD)
IMAGES = 2  # one task per job worker: all of them copying at the kill
# at 4096 KB/s about 4 s a task; far more than the socket buffers hold, so the kill
# breaks the stream rather than leave the rest already received
LAYER = 16 * 1024 * 1024


@contextmanager
def _source(kind: str, tmp_path):
    """(the source server, its Registry, the repository prefix, the registry body)."""
    if kind == "docker-registry":
        with distribution_registry(tmp_path) as dist:
            yield (
                dist,
                Registry("distribution", dist, creds=("", "")),
                _name("restart"),
                (
                    f"http://{dist.host}",
                    None,
                ),
            )
        return
    with running_server(tmp_path / "source") as remote:
        with ApiClient(remote.url, ADMIN) as remote_api:
            prefix = _project(remote_api)
        yield remote, Registry("harbor", remote), prefix, (remote.url, ADMIN)


@pytest.mark.parametrize("kind", ["docker-registry", "harbor"])
def test_the_execution_finishes_when_the_source_restarts_mid_copy(kind, tmp_path):
    (tmp_path / "source").mkdir()
    with (
        running_server(tmp_path) as local,
        ApiClient(local.url, ADMIN) as api,
        _source(kind, tmp_path) as (source, there, prefix, (url, creds)),
    ):
        here, dest = Registry("harbor", local), _project(api)
        digests = {f"img{i}": _push_big(there, f"{prefix}/img{i}", LAYER)[0] for i in range(IMAGES)}
        registry_id = _registry(api, url, kind, creds=creds)
        policy_id = _policy(
            api,
            registry_id,
            dest_namespace=dest,
            speed=4096,
            filters=[{"type": "name", "value": f"{prefix}/**"}],
        )
        r = api.post("/replication/executions", json={"policy_id": policy_id})
        assert r.status_code == 201, r.text
        path = r.headers["Location"].removeprefix("/api/v2.0")

        def tasks() -> list[dict]:
            return api.get(f"{path}/tasks").json()

        deadline = time.monotonic() + 20
        while not any(0 < t.get("bytes_copied", 0) < LAYER for t in tasks()):
            assert time.monotonic() < deadline, tasks()
            time.sleep(0.05)
        source.kill()  # mid-blob: a task's stream breaks
        deadline = time.monotonic() + 20
        while not any("retry in" in t["status_message"] for t in tasks()):
            assert time.monotonic() < deadline, tasks()
            time.sleep(0.1)
        source.start()  # same port, same data
        execution = _wait(api, int(path.rsplit("/", 1)[1]), timeout=90)
        finished = tasks()
        assert execution["status"] == "Succeed", [_log(api, t) for t in finished]
        assert execution["total"] == IMAGES and execution["succeed"] == IMAGES, execution
        logs = [_log(api, t) for t in finished]
        assert any(log.count("pulling ") > 1 for log in logs), logs  # a task ran again
        for name, digest in digests.items():
            assert _digest(here, f"{dest}/{name}", "v1") == digest
