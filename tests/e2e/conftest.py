"""Fixtures for end-to-end tests with real clients against real registries.

``registry`` is parametrised: ``harbor`` is our ``harbor-api serve`` process (SQLite, one
worker), ``distribution`` the CNCF reference registry, which validates that a test asks for
what the specification and the real clients expect. Each backend is started once per session.
"""

from __future__ import annotations

import pytest

from tests.support.buildah import Buildah
from tests.support.connect_proxy import ConnectProxy
from tests.support.dockerd import DockerClient, running_dockerd
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


@pytest.fixture(scope="session")
def dockerd(tmp_path_factory):
    """One private Docker engine for the session; it reaches ``*.test`` names via a proxy."""
    with (
        ConnectProxy() as proxy,
        running_dockerd(
            tmp_path_factory.mktemp("dockerd"), env={"HTTPS_PROXY": proxy.url}
        ) as daemon,
    ):
        yield daemon


@pytest.fixture
def docker(dockerd, tmp_path):
    """The docker CLI with a config directory (credentials) of its own; images removed after."""
    client = DockerClient(dockerd, tmp_path / "docker-config")
    yield client
    client.run("image", "prune", "--all", "--force")


@pytest.fixture
def buildah(tmp_path):
    client = Buildah(tmp_path / "buildah")
    yield client
    client.cleanup()
