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
from tests.support.servers import ADMIN_PASSWORD, free_port, postgres_database, running_server

pytestmark = [pytest.mark.api, pytest.mark.slow, pytest.mark.timeout(240)]

FAST_BUSY = {"HARBOR_DATABASE_BUSY_TIMEOUT_SECONDS": "1"}


def clients(server):
    return (
        RegistryClient(f"{server.url}/api/v2.0", ("admin", ADMIN_PASSWORD)),
        RegistryClient(server.url, ("admin", ADMIN_PASSWORD)),
    )


def new_project(api, name: str):
    return api.post(
        "/projects", json={"project_name": name, "metadata": {"public": "false"}}, timeout=20
    )


def assert_unavailable(response, code: str) -> None:
    assert response.status_code == 503, (response.status_code, response.text)
    assert int(response.headers["Retry-After"]) > 0
    error = response.json()["errors"][0]
    assert error["code"] == code and "database" in error["message"], error


def assert_writes_fail_cleanly(api, registry, project: str) -> None:
    started = time.monotonic()
    assert_unavailable(new_project(api, project), "DATABASE_UNAVAILABLE")
    assert_unavailable(
        registry.post("/v2/library/locked/blobs/uploads/", timeout=20), "UNAVAILABLE"
    )
    assert time.monotonic() - started < 15  # the busy timeout, not the default 30 s


def assert_writes_work(api, registry, project: str) -> None:
    r = new_project(api, project)
    assert r.status_code == 201, r.text
    assert registry.post("/v2/library/locked/blobs/uploads/").status_code == 202


@contextmanager
def exclusive_lock(db_path: Path):
    """Another process holding SQLite's write lock (``BEGIN EXCLUSIVE``) until released."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys\n"
            f"c = sqlite3.connect({str(db_path)!r}, isolation_level=None)\n"
            "c.execute('BEGIN EXCLUSIVE')\nprint('locked', flush=True)\nsys.stdin.read()\n"
            "c.execute('ROLLBACK')\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
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
        self._as_postgres(
            _pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync"
        )

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *command: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *command],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            cwd=self.dir,
        )

    def start(self) -> None:
        self._as_postgres(
            _pg_bin("pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.dir / "log"),
            "-w",
            "-o",
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        )

    def stop(self) -> None:
        self._as_postgres(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

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
    import sqlalchemy as sa

    with running_server(tmp_path, private_postgres.url, extra_env=FAST_BUSY) as server:
        api, registry = clients(server)
        assert_writes_work(api, registry, "before-stop")
        holder = sa.create_engine(private_postgres.url)
        with holder.connect() as conn:  # tables locked past the timeout: 503 too
            conn.exec_driver_sql("LOCK TABLE projects, uploads IN ACCESS EXCLUSIVE MODE")
            assert_writes_fail_cleanly(api, registry, "while-locked")
            conn.rollback()
        holder.dispose()
        assert_writes_work(api, registry, "after-lock")
        private_postgres.stop()
        assert_writes_fail_cleanly(api, registry, "while-stopped")
        private_postgres.start()
        assert_writes_work(api, registry, "after-restart")


# --- abandoned uploads: the periodic sweep and the per-account limits ----------------------

SWEEP_FAST = {"HARBOR_UPLOAD_PURGE_AGE_SECONDS": "4", "HARBOR_UPLOAD_PURGE_INTERVAL_SECONDS": "1"}


def _upload_id(location: str) -> str:
    return location.rsplit("/", 1)[1]


def test_periodic_sweep_removes_abandoned_uploads_not_active_ones(tmp_path):
    import threading
    import uuid

    from tests.support.oci import sha256

    with running_server(tmp_path, extra_env=SWEEP_FAST) as server:
        _, registry = clients(server)
        repo = "library/swept"
        storage = server.data_dir / "storage"
        uploads = storage / "uploads"
        abandoned = registry.start_upload(repo)
        assert registry.patch(abandoned, data=b"left behind").status_code == 202
        kept = registry.start_upload(repo)
        assert registry.patch(kept, data=b"a").status_code == 202
        streamed = registry.start_upload(repo)
        # litter a crash leaves: session files without a row, a temporary file by a blob key
        orphan = uuid.uuid4().hex
        litter = [
            uploads / orphan,
            uploads / f"{orphan}.lock",
            storage / "blobs" / "sha256" / "ab" / f"{'ab' * 32}.tmp-{uuid.uuid4().hex}",
        ]
        for path in litter:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"junk")
            os.utime(path, (time.time() - 3600, time.time() - 3600))

        def slow_body():  # one request streaming for longer than the purge age
            for _ in range(20):
                yield b"s" * 1000
                time.sleep(0.4)

        result = {}
        writer = threading.Thread(
            target=lambda: result.update(r=registry.patch(streamed, data=slow_body(), timeout=60))
        )
        writer.start()
        deadline = time.monotonic() + 40
        sent = 1

        def swept() -> bool:
            return registry.get(abandoned).status_code == 404 and not any(
                p.exists() for p in litter
            )

        while (writer.is_alive() or not swept()) and time.monotonic() < deadline:
            r = registry.patch(kept, data=b"b", headers={"Content-Range": f"{sent}-{sent}"})
            assert r.status_code == 202, r.text  # a session in use: kept
            sent += 1
            time.sleep(0.5)
        assert swept() and not (uploads / _upload_id(abandoned)).exists()
        writer.join(30)
        assert result["r"].status_code == 202, result["r"].text  # never swept mid-request
        assert (
            registry.put(
                result["r"].headers["Location"], params={"digest": sha256(b"s" * 20000)}
            ).status_code
            == 201
        )
        body = b"a" + b"b" * (sent - 1)
        assert registry.put(kept, params={"digest": sha256(body)}).status_code == 201


LIMITS = {"HARBOR_MAX_OPEN_UPLOADS_PER_USER": "3", "HARBOR_MAX_UPLOAD_BYTES_PER_USER": "1000000"}


def _pusher(server, api) -> RegistryClient:
    """An ordinary user who may push to a new project; a /v2 client signed in as them."""
    password = "Passw0rd!limit"
    assert (
        api.post(
            "/users",
            json={
                "username": "pusher",
                "email": "pusher@example.com",
                "realname": "pusher",
                "password": password,
            },
        ).status_code
        == 201
    )
    assert new_project(api, "limited").status_code == 201
    r = api.post(
        "/projects/limited/members", json={"role_id": 2, "member_user": {"username": "pusher"}}
    )
    assert r.status_code == 201, r.text
    return RegistryClient(server.url, ("pusher", password))


def assert_too_many(response, words: str) -> None:
    assert response.status_code == 429, (response.status_code, response.text)
    error = response.json()["errors"][0]
    assert error["code"] == "TOOMANYREQUESTS" and words in error["message"], error


@contextmanager
def database_for(backend: str):
    if backend == "sqlite":
        yield ""
    else:
        with postgres_database() as url:
            yield url


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_open_upload_sessions_per_account_are_bounded(tmp_path, backend):
    from tests.support.oci import sha256

    with database_for(backend) as url, running_server(tmp_path, url, extra_env=LIMITS) as server:
        api, admin = clients(server)
        user = _pusher(server, api)
        repo = "limited/app"
        sessions = [user.start_upload(repo) for _ in range(3)]
        assert_too_many(user.post(f"/v2/{repo}/blobs/uploads/"), "at most 3")
        # a monolithic push opens no session: still allowed
        assert (
            user.post(
                f"/v2/{repo}/blobs/uploads/", params={"digest": sha256(b"mono")}, data=b"mono"
            ).status_code
            == 201
        )
        assert admin.post("/v2/library/x/blobs/uploads/").status_code == 202  # administrators
        assert user.delete(sessions.pop()).status_code == 204  # cancel frees one
        sessions.append(user.start_upload(repo))
        assert_too_many(user.post(f"/v2/{repo}/blobs/uploads/"), "at most 3")
        done = sessions.pop()  # finishing frees one too
        assert user.put(done, params={"digest": sha256(b"x")}, data=b"x").status_code == 201
        sessions.append(user.start_upload(repo))

        # bytes: the open sessions together hold at most 1,000,000
        big, other = sessions[0], sessions[1]
        assert user.patch(big, data=b"1" * 600_000).status_code == 202
        assert_too_many(user.patch(other, data=b"2" * 500_000), "1000000 bytes")

        def streamed():  # no Content-Length: refused as it passes the limit
            for _ in range(50):
                yield b"3" * 10_000

        assert_too_many(user.patch(other, data=streamed()), "1000000 bytes")
        status = user.get(other)
        assert status.status_code == 204 and status.headers["Range"] == "0-0"
        assert user.patch(other, data=b"2" * 300_000).status_code == 202  # what fits, fits
        assert user.put(big, params={"digest": sha256(b"1" * 600_000)}).status_code == 201
        r = user.patch(other, data=b"2" * 500_000, headers={"Content-Range": "300000-799999"})
        assert r.status_code == 202, r.text
        assert user.put(other, params={"digest": sha256(b"2" * 800_000)}).status_code == 201
