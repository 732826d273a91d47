"""A database that stays locked or unreachable answers 503 with Retry-After on API writes
and upload starts (never a 500), and the server recovers by itself once it is back."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from glob import glob
from pathlib import Path

import pytest

from tests.support.oci import RegistryClient
from tests.support.servers import ADMIN_PASSWORD, free_port, running_server

pytestmark = [pytest.mark.api, pytest.mark.slow, pytest.mark.timeout(240)]

FAST_BUSY = {"HARBOR_DATABASE_BUSY_TIMEOUT_SECONDS": "1"}


def clients(server):
    return (RegistryClient(f"{server.url}/api/v2.0", ("admin", ADMIN_PASSWORD)),
            RegistryClient(server.url, ("admin", ADMIN_PASSWORD)))


def new_project(api, name: str):
    return api.post("/projects", json={"project_name": name, "metadata": {"public": "false"}},
                    timeout=20)


def assert_unavailable(response, code: str) -> None:
    assert response.status_code == 503, (response.status_code, response.text)
    assert int(response.headers["Retry-After"]) > 0
    error = response.json()["errors"][0]
    assert error["code"] == code and "database" in error["message"], error


def assert_writes_fail_cleanly(api, registry, project: str) -> None:
    started = time.monotonic()
    assert_unavailable(new_project(api, project), "DATABASE_UNAVAILABLE")
    assert_unavailable(registry.post("/v2/library/locked/blobs/uploads/", timeout=20),
                       "UNAVAILABLE")
    assert time.monotonic() - started < 15  # the busy timeout, not the default 30 s


def assert_writes_work(api, registry, project: str) -> None:
    r = new_project(api, project)
    assert r.status_code == 201, r.text
    assert registry.post("/v2/library/locked/blobs/uploads/").status_code == 202


@contextmanager
def exclusive_lock(db_path: Path):
    """Another process holding SQLite's write lock (``BEGIN EXCLUSIVE``) until released."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys\n"
         f"c = sqlite3.connect({str(db_path)!r}, isolation_level=None)\n"
         "c.execute('BEGIN EXCLUSIVE')\nprint('locked', flush=True)\nsys.stdin.read()\n"
         "c.execute('ROLLBACK')\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        yield
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)


def test_sqlite_locked_longer_than_the_busy_timeout(tmp_path):
    with running_server(tmp_path, extra_env=FAST_BUSY) as server:
        api, registry = clients(server)
        assert_writes_work(api, registry, "before-lock")
        with exclusive_lock(server.data_dir / "harbor.db"):
            assert_writes_fail_cleanly(api, registry, "during-lock")
            assert api.get("/projects", timeout=20).status_code == 200  # WAL: reads go on
        assert_writes_work(api, registry, "after-lock")


def _pg_bin(name: str) -> str:
    found = sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"))
    assert found, f"no PostgreSQL {name} under /usr/lib/postgresql"
    return found[-1]


class PrivatePostgres:
    """A PostgreSQL cluster of this test's own (initdb in a temp dir, a free port), run as
    the ``postgres`` user; never the shared instance."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="harbor-pg-"))
        shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        self.port = free_port()
        self._as_postgres(_pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U",
                          "postgres", "--no-sync")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *command: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, cwd=self.dir)

    def start(self) -> None:
        self._as_postgres(_pg_bin("pg_ctl"), "-D", str(self.data), "-l",
                          str(self.dir / "log"), "-w", "-o",
                          f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                          "-c fsync=off", "start")

    def stop(self) -> None:
        self._as_postgres(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w",
                          "stop")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def private_postgres():
    if os.geteuid() != 0:
        pytest.fail("this test runs a private PostgreSQL as the postgres user: needs root")
    pg = PrivatePostgres()
    try:
        pg.start()
        yield pg
    finally:
        pg.remove()


def test_postgresql_stopped_and_restarted(tmp_path, private_postgres):
    with running_server(tmp_path, private_postgres.url) as server:
        api, registry = clients(server)
        assert_writes_work(api, registry, "before-stop")
        private_postgres.stop()
        assert_writes_fail_cleanly(api, registry, "while-stopped")
        private_postgres.start()
        assert_writes_work(api, registry, "after-restart")
