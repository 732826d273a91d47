"""Memory stays flat as blobs grow: a 2 GiB chunked push and pull through one server."""

import hashlib
import os

import pytest

from tests.support.oci import RegistryClient
from tests.support.servers import ADMIN_PASSWORD, running_server

pytestmark = [pytest.mark.api, pytest.mark.slow]

CHUNK = b"\x5a" * (4 * 1024 * 1024)
TOTAL = 2 * 1024 * 1024 * 1024


def _tree_kib(pid: int, field: str) -> int:
    """Sum of ``field`` (VmRSS/VmHWM) over the process and its children, in KiB."""
    total, pids = 0, [pid]
    children = f"/proc/{pid}/task/{pid}/children"
    if os.path.exists(children):
        pids += [int(p) for p in open(children).read().split()]
    for one in pids:
        for line in open(f"/proc/{one}/status"):
            if line.startswith(field + ":"):
                total += int(line.split()[1])
    return total


def test_two_gib_push_and_pull_keep_memory_flat(tmp_path):
    with running_server(tmp_path) as server:  # its own server: nothing else moves the peak
        _push_and_pull(server)


def _push_and_pull(server) -> None:
    pid = server.proc.pid
    client = RegistryClient(server.url, ("admin", ADMIN_PASSWORD))
    client.push_image("library/memory-warmup", "v1")
    assert client.get("/v2/library/memory-warmup/manifests/v1").status_code == 200
    before = _tree_kib(pid, "VmHWM")

    def body():
        for _ in range(TOTAL // len(CHUNK)):
            yield CHUNK

    digest = hashlib.sha256()
    for _ in range(TOTAL // len(CHUNK)):
        digest.update(CHUNK)
    expected = "sha256:" + digest.hexdigest()
    location = client.start_upload("library/memory")
    r = client.patch(location, data=body())
    assert r.status_code == 202 and r.headers["Range"] == f"0-{TOTAL - 1}"
    assert client.put(location, params={"digest": expected}).status_code == 201
    with client.get(f"/v2/library/memory/blobs/{expected}", stream=True) as r:
        received = sum(len(c) for c in r.iter_content(4 * 1024 * 1024))
    assert received == TOTAL
    grown_mib = (_tree_kib(pid, "VmHWM") - before) / 1024
    assert grown_mib < 64, f"server memory grew by {grown_mib:.0f} MiB"
