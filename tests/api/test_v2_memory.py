"""Memory stays flat as blobs grow: a 2 GiB chunked push and pull through one server."""

import hashlib
import os

import pytest

from tests.support.oci import RegistryClient
from tests.support.servers import ADMIN_PASSWORD

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


def test_two_gib_push_and_pull_keep_memory_flat(sqlite_server):
    pid = sqlite_server.proc.pid
    client = RegistryClient(sqlite_server.url, ("admin", ADMIN_PASSWORD))
    client.push_image("library/memory-warmup", "v1")
    before = _tree_kib(pid, "VmRSS")

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
