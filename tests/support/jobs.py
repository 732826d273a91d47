"""Reaching a test server's job service through its database (executions have no API yet)."""

from __future__ import annotations

import time
from contextlib import contextmanager

from harbor_api.db.models import Execution, Task
from harbor_api.db.session import Database
from harbor_api.jobs import executions


def server_db_url(server) -> str:
    return server.database_url or f"sqlite:///{(server.data_dir / 'harbor.db').resolve()}"


@contextmanager
def server_database(server):
    db = Database(server_db_url(server))
    try:
        yield db
    finally:
        db.dispose()


def start_execution(db: Database, job_type: str, params, vendor_type: str = "TEST") -> int:
    with db.transaction() as s:
        return executions.create_execution(s, vendor_type, job_type, params=params).id


def tasks_of(db: Database, execution_id: int) -> list[dict]:
    with db.read() as s:
        return [
            {
                "id": t.id,
                "status": t.status,
                "run_count": t.run_count,
                "status_message": t.status_message,
            }
            for t in s.query(Task).filter_by(execution_id=execution_id).order_by(Task.id)
        ]


def execution_status(db: Database, execution_id: int) -> str:
    with db.read() as s:
        return s.get(Execution, execution_id).status


def wait_for_status(db: Database, execution_id: int, wanted: set[str], timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = execution_status(db, execution_id)
        if status in wanted:
            return status
        time.sleep(0.1)
    raise AssertionError(
        f"execution {execution_id} still {status} after {timeout}s: {tasks_of(db, execution_id)}"
    )
