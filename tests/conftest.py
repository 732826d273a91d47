"""Shared fixtures with well-known names: ``server``, ``admin_client``, ``anon_client``.

API tests run against real server processes, once on SQLite and once on PostgreSQL
(``backend`` parameter). Servers are started once per session and backend.
"""

from __future__ import annotations

import uuid

import pytest

from tests.support.clients import ApiClient
from tests.support.servers import ADMIN_PASSWORD, postgres_database, running_server

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def server(backend, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"server-{backend}")
    if backend == "postgresql":
        with postgres_database() as url, running_server(tmp, url) as srv:
            yield srv
    else:
        with running_server(tmp) as srv:
            yield srv


@pytest.fixture(scope="session")
def sqlite_server(tmp_path_factory):
    """One SQLite-backed server for tests that need not run on both backends."""
    with running_server(tmp_path_factory.mktemp("server-sqlite-only")) as srv:
        yield srv


@pytest.fixture
def admin_client(server) -> ApiClient:
    with ApiClient(server.url, ("admin", ADMIN_PASSWORD)) as client:
        yield client


@pytest.fixture
def anon_client(server) -> ApiClient:
    with ApiClient(server.url) as client:
        yield client


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def new_user(admin_client):
    """Factory: create a local user and return (id, username, password, client)."""
    created = []

    def make(sysadmin: bool = False):
        name = unique("user")
        password = "Passw0rd!" + uuid.uuid4().hex[:4]
        r = admin_client.post(
            "/users",
            json={
                "username": name,
                "email": f"{name}@example.com",
                "realname": name,
                "password": password,
            },
        )
        assert r.status_code == 201, r.text
        user_id = int(r.headers["Location"].rsplit("/", 1)[1])
        if sysadmin:
            admin_client.put(f"/users/{user_id}/sysadmin", json={"sysadmin_flag": True})
        created.append(user_id)
        return user_id, name, password, ApiClient(admin_client.base_url, (name, password))

    yield make
    for user_id in created:
        admin_client.delete(f"/users/{user_id}")


@pytest.fixture
def project(admin_client):
    """A fresh private project; its name."""
    name = unique("proj")
    r = admin_client.post("/projects", json={"project_name": name, "metadata": {"public": "false"}})
    assert r.status_code == 201, r.text
    yield name
    admin_client.delete(f"/projects/{name}", headers={"X-Is-Resource-Name": "true"})


@pytest.fixture
def pusher(server):
    """Pushes test images into ``server`` through /v2 as admin (tests/support/push.py)."""
    from tests.support.push import Pusher

    return Pusher(server.url)


@pytest.fixture
def registry_client(server):
    """An OCI Distribution client on the server, as admin (see ``tests/support/oci.py``)."""
    from tests.support.oci import RegistryClient

    with RegistryClient(server.url, ("admin", ADMIN_PASSWORD)) as client:
        yield client


@pytest.fixture
def repo(project) -> str:
    """A fresh repository name inside a fresh private project."""
    return f"{project}/{unique('repo')}"
