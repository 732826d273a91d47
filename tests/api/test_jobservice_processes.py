"""The job service across processes: a killed server's task, the Redis queue with standalone
worker processes, and exactly-once schedules with two servers on one PostgreSQL database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import pytest

import tests.support.job_types  # noqa: F401  (the test job types, in this process too)
from harbor_api.db.models import Execution
from harbor_api.jobs import schedules
from tests.support.clients import ApiClient
from tests.support.jobs import server_database, start_execution, tasks_of, wait_for_status
from tests.support.servers import ADMIN_PASSWORD, postgres_database, running_server

pytestmark = [pytest.mark.api, pytest.mark.slow]

TEST_JOBS = {
    "HARBOR_JOB_MODULES": "tests.support.job_types",
    "HARBOR_JOB_LEASE_SECONDS": "2",
    "PYTHONPATH": os.getcwd() + os.pathsep + os.environ.get("PYTHONPATH", ""),
}


def marks(path) -> list[list[str]]:
    return [line.split() for line in path.read_text().splitlines()] if path.exists() else []


def wait_until(predicate, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_task_of_a_killed_server_completes_exactly_once_after_restart(tmp_path):
    marker = tmp_path / "marker"
    with running_server(tmp_path, extra_env=TEST_JOBS) as server:
        with server_database(server) as db:
            eid = start_execution(
                db, "TEST_STEPS", {"steps": 40, "step_seconds": 0.1, "marker": str(marker)}
            )
            wait_until(lambda: marks(marker), what="the task to start")
            server.kill()  # kill -9 the whole server mid-task
            assert tasks_of(db, eid)[0]["status"] == "running"  # its lease is still held
            server.start()
            assert wait_for_status(db, eid, {"success", "error"}, timeout=60) == "success"
            task = tasks_of(db, eid)[0]
    lines = marks(marker)
    assert [m[0] for m in lines] == ["start", "start", "done"], lines
    assert lines[0][2] != lines[1][2]  # the second run is the restarted server's
    assert task["run_count"] == 2


def _worker(server, env):
    log = open(server.data_dir.parent / f"worker-{uuid.uuid4().hex[:6]}.log", "ab")
    return subprocess.Popen(
        [sys.executable, "-m", "harbor_api.cli", "jobs-worker", "--data-dir", str(server.data_dir)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_redis_queue_runs_tasks_in_standalone_workers(tmp_path, backend):
    from redis import Redis
    from rq import Queue

    queue_name = f"harbor_test_{uuid.uuid4().hex[:8]}"
    env = {
        **TEST_JOBS,
        "HARBOR_JOB_QUEUE": "redis",
        "HARBOR_REDIS_URL": "redis://127.0.0.1:6379/0",
        "HARBOR_JOB_REDIS_QUEUE": queue_name,
    }
    marker = tmp_path / "marker"
    with (
        postgres_database() if backend == "postgresql" else _no_database() as url,
        running_server(tmp_path, url, extra_env=env) as server,
    ):
        workers = [_worker(server, server.env) for _ in range(2)]
        try:
            with ApiClient(server.url, ("admin", ADMIN_PASSWORD)) as admin:
                wait_until(
                    lambda: len(admin.get("/jobservice/pools").json()) == 2,
                    what="two worker processes",
                )
                pools = admin.get("/jobservice/pools").json()
                assert {p["pid"] for p in pools} == {w.pid for w in workers}
            with server_database(server) as db:
                many = start_execution(
                    db, "TEST_STEPS", [{"steps": 2, "marker": str(marker)} for _ in range(6)]
                )
                flaky = start_execution(db, "TEST_FAIL", {"fail_runs": 1})
                assert wait_for_status(db, many, {"success", "error"}, 60) == "success"
                assert wait_for_status(db, flaky, {"success", "error"}, 60) == "success"
                assert tasks_of(db, flaky)[0]["run_count"] == 2  # retried after its backoff
                task_ids = {t["id"] for t in tasks_of(db, many)}
            done = [m for m in marks(marker) if m[0] == "done"]
            assert sorted(int(m[1]) for m in done) == sorted(task_ids)  # each exactly once
            assert {int(m[2]) for m in done} <= {w.pid for w in workers}  # not the server
        finally:
            for w in workers:
                w.terminate()
            for w in workers:
                w.wait(15)
            Queue(queue_name, connection=Redis.from_url(env["HARBOR_REDIS_URL"])).delete(
                delete_jobs=True
            )


class _no_database:
    def __enter__(self):
        return ""

    def __exit__(self, *exc):
        return False


def test_two_servers_on_postgresql_fire_a_schedule_exactly_once(tmp_path):
    shared = {**TEST_JOBS, "HARBOR_STORAGE_ROOT": str(tmp_path / "storage")}
    with (
        postgres_database() as url,
        running_server(tmp_path, url, extra_env=shared) as one,
        running_server(tmp_path, url, extra_env=shared) as two,
    ):
        assert one.port != two.port
        with server_database(one) as db:
            with db.transaction() as s:
                schedules.set_schedule(
                    s,
                    "TEST_VENDOR",
                    "TEST_STEPS",
                    "* * * * * *",
                    params={"steps": 1, "step_seconds": 0.01},
                )
            time.sleep(5)
            with db.transaction() as s:
                schedules.delete_schedule(s, "TEST_VENDOR")
            time.sleep(1)
            with db.read() as s:
                fired = [
                    (e.id, e.start_time)
                    for e in s.query(Execution)
                    .filter_by(vendor_type="TEST_VENDOR")
                    .order_by(Execution.id)
                ]
            for eid, _ in fired:
                wait_for_status(db, eid, {"success"})
    seconds = [int(start.timestamp()) for _, start in fired]
    assert 3 <= len(fired) <= 6, fired
    assert len(set(seconds)) == len(seconds), f"an occurrence fired twice: {fired}"


def test_a_killed_redis_worker_s_task_is_finished_by_another(tmp_path):
    import signal

    from redis import Redis
    from rq import Queue

    queue_name = f"harbor_test_{uuid.uuid4().hex[:8]}"
    env = {
        **TEST_JOBS,
        "HARBOR_JOB_QUEUE": "redis",
        "HARBOR_REDIS_URL": "redis://127.0.0.1:6379/0",
        "HARBOR_JOB_REDIS_QUEUE": queue_name,
    }
    marker = tmp_path / "marker"
    with running_server(tmp_path, extra_env=env) as server:
        first = _worker(server, server.env)
        second = None
        try:
            with server_database(server) as db:
                eid = start_execution(
                    db, "TEST_STEPS", {"steps": 40, "step_seconds": 0.1, "marker": str(marker)}
                )
                wait_until(lambda: marks(marker), what="the first worker to start the task")
                os.killpg(first.pid, signal.SIGKILL)
                first.wait(10)
                second = _worker(server, server.env)
                assert wait_for_status(db, eid, {"success", "error"}, 60) == "success"
                assert tasks_of(db, eid)[0]["run_count"] == 2
            lines = marks(marker)
            assert [m[0] for m in lines] == ["start", "start", "done"], lines
            assert int(lines[0][2]) == first.pid and int(lines[2][2]) == second.pid
        finally:
            for w in (first, second):
                if w is not None and w.poll() is None:
                    w.terminate()
                    w.wait(15)
            Queue(queue_name, connection=Redis.from_url(env["HARBOR_REDIS_URL"])).delete(
                delete_jobs=True
            )
