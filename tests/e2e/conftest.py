"""Fixtures for end-to-end tests with real clients against real registries.

``registry`` is parametrised: ``harbor`` is our ``harbor-api serve`` process (SQLite, one
worker), ``distribution`` the CNCF reference registry, which validates that a test asks for
what the specification and the real clients expect. Each backend is started once per session.
"""

from __future__ import annotations

import pytest

from tests.support.registry_clients import Podman, Registry, distribution_registry
from tests.support.servers import running_server

REGISTRY_KINDS = ["harbor", "distribution"]


@pytest.fixture(scope="session")
def harbor_registry(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("e2e-harbor")) as server:
        yield Registry("harbor", server)


@pytest.fixture(scope="session")
def distribution(tmp_path_factory):
    with distribution_registry(tmp_path_factory.mktemp("e2e-distribution")) as server:
        yield Registry("distribution", server)


@pytest.fixture(params=REGISTRY_KINDS)
def registry(request) -> Registry:
    """Every registry under test, one after the other."""
    name = "harbor_registry" if request.param == "harbor" else "distribution"
    return request.getfixturevalue(name)


@pytest.fixture
def podman(tmp_path):
    client = Podman(tmp_path / "podman")
    yield client
    client.cleanup()
