"""Start a real ``harbor-api serve`` process on a free loopback port, and throwaway databases."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

ADMIN_PASSWORD = "Harbor12345"
PG_ADMIN_URL = os.environ.get(
    "HARBOR_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ServerProcess:
    url: str
    port: int
    data_dir: Path
    database_url: str
    env: dict[str, str]
    proc: subprocess.Popen | None = None
    log_path: Path | None = None
    extra_args: list[str] = field(default_factory=list)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        self.log_path = self.data_dir.parent / f"server-{self.port}.log"
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "harbor_api.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--data-dir",
                str(self.data_dir),
                *self.extra_args,
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_tail()}")
            try:
                if (
                    requests.get(f"{self.url}/api/v2.0/ping", timeout=1, verify=False).status_code
                    == 200
                ):
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not start in {timeout}s:\n{self.log_tail()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def log_tail(self, n: int = 60) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])


@contextmanager
def postgres_database():
    """Create a throwaway PostgreSQL database; yield its SQLAlchemy URL; drop it."""
    import sqlalchemy as sa

    name = f"harbor_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@contextmanager
def running_server(
    tmp: Path,
    database_url: str = "",
    extra_env: dict[str, str] | None = None,
    extra_args: list[str] | None = None,
    scheme: str = "http",
):
    port = free_port()
    data_dir = tmp / f"data-{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARBOR_")}
    # one worker unless a test asks for more (--workers), whatever the machine's cores
    env.update(
        {
            "HARBOR_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "HARBOR_LOG_LEVEL": "warning",
            "HARBOR_WORKERS": "1",
        }
    )
    if database_url:
        env["HARBOR_DATABASE_URL"] = database_url
    env.update(extra_env or {})
    server = ServerProcess(
        url=f"{scheme}://127.0.0.1:{port}",
        port=port,
        data_dir=data_dir,
        database_url=database_url,
        env=env,
        extra_args=extra_args or [],
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
