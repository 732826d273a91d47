"""The namespaces a process's replication tasks found at an endpoint, remembered briefly."""

import time

from harbor_api.adapters import Endpoint
from harbor_api.services.replication.copy_task import SeenNamespaces


def test_namespaces_are_remembered_for_a_few_seconds_only():
    seen, there = SeenNamespaces(0.2), Endpoint("http://a.example", "harbor")
    assert not seen.recently(there, "lib")
    seen.remember(there, "lib")
    assert seen.recently(there, "lib") and not seen.recently(there, "other")
    deadline = time.monotonic() + 5
    while seen.recently(there, "lib"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
