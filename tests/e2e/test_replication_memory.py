"""A 2 GiB layer replicates with flat memory: push mode from this registry to Debian's
``docker-registry``, the server's resident memory (summed over its process group) sampled
while the task streams the blob server to server."""

from __future__ import annotations

import hashlib
import threading
import time

import pytest

from tests.e2e.test_replication_pull_mode import _digest, _log, _name, _registry, _wait
from tests.support.clients import ApiClient
from tests.support.oci import (
    OCI_CONFIG,
    OCI_LAYER,
    OCI_MANIFEST,
    RegistryClient,
    canonical,
    descriptor,
)
from tests.support.registry_clients import (
    Registry,
    distribution_registry,
    process_group_rss_mib,
)
from tests.support.servers import ADMIN_PASSWORD, running_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.soak]
ADMIN = ("admin", ADMIN_PASSWORD)
CHUNK = b"\xa5" * (4 * 1024 * 1024)
TOTAL = 2 * 1024 * 1024 * 1024
ALLOWED_GROWTH_MIB = 64


class Sampler(threading.Thread):
    """The peak of a process group's resident memory, sampled every 50 ms."""

    def __init__(self, pgid: int) -> None:
        super().__init__(daemon=True)
        self.pgid, self.peak, self.done = pgid, 0.0, threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, process_group_rss_mib(self.pgid))
            self.done.wait(0.05)


def _push_two_gib(client: RegistryClient, repo: str) -> str:
    digest = hashlib.sha256()
    for _ in range(TOTAL // len(CHUNK)):
        digest.update(CHUNK)
    layer = "sha256:" + digest.hexdigest()
    location = client.start_upload(repo)
    body = (CHUNK for _ in range(TOTAL // len(CHUNK)))
    assert client.patch(location, data=body, timeout=600).status_code == 202
    assert client.put(location, params={"digest": layer}).status_code == 201
    config = canonical({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers"}})
    client.push_blob(repo, config)
    manifest = canonical(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": descriptor(OCI_CONFIG, config),
            "layers": [{"mediaType": OCI_LAYER, "digest": layer, "size": TOTAL}],
        }
    )
    r = client.push_manifest(repo, "v1", manifest)
    assert r.status_code == 201, r.text
    return r.headers["Docker-Content-Digest"]


def test_a_two_gib_layer_replicates_with_flat_memory(tmp_path):
    with (
        running_server(tmp_path) as local,
        ApiClient(local.url, ADMIN) as api,
        distribution_registry(tmp_path) as dist,
    ):
        project = _name("big")
        r = api.post("/projects", json={"project_name": project, "metadata": {"public": "false"}})
        assert r.status_code == 201, r.text
        digest = _push_two_gib(RegistryClient(local.url, ADMIN), f"{project}/layer")
        registry_id = _registry(api, f"http://{dist.host}", "docker-registry", creds=None)
        r = api.post(
            "/replication/policies",
            json={
                "name": _name("p"),
                "dest_registry": {"id": registry_id},
                "filters": [{"type": "name", "value": f"{project}/layer"}],
            },
        )
        assert r.status_code == 201, r.text
        policy_id = int(r.headers["Location"].rsplit("/", 1)[1])
        before = process_group_rss_mib(local.proc.pid)
        sampler = Sampler(local.proc.pid)
        sampler.start()
        started = time.monotonic()
        r = api.post("/replication/executions", json={"policy_id": policy_id})
        assert r.status_code == 201, r.text
        execution = _wait(api, int(r.headers["Location"].rsplit("/", 1)[1]), timeout=240)
        elapsed = time.monotonic() - started
        sampler.done.set()
        sampler.join()
        tasks = api.get(f"/replication/executions/{execution['id']}/tasks").json()
        assert execution["status"] == "Succeed", [_log(api, t) for t in tasks]
        there = Registry("distribution", dist, creds=("", ""))
        assert _digest(there, f"{project}/layer", "v1") == digest
        grown = sampler.peak - before
        print(
            f"2 GiB replicated in {elapsed:.1f}s; RSS {before:.0f} -> peak {sampler.peak:.0f} MiB"
        )
        assert grown < ALLOWED_GROWTH_MIB, f"server memory grew by {grown:.0f} MiB"
