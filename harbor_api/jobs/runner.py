"""Running one claimed task: the job's context, its log, its outcome.

The same code runs a task whichever queue handed it out (the in-process database queue or
a Redis worker process, see :mod:`harbor_api.jobs.redis_queue`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from harbor_api.db.session import Database
from harbor_api.jobs import queue, types
from harbor_api.jobs.logs import TaskLog
from harbor_api.registry.storage.base import StorageDriver

log = logging.getLogger(__name__)


@dataclass
class JobContext:
    """What a job handler gets: its parameters, a log, the database, and a stop signal that
    a long job checks between steps (``if ctx.should_stop(): return``)."""

    task_id: int
    execution_id: int
    run_count: int
    params: dict[str, Any]
    db: Database
    log_writer: TaskLog
    stop_event: threading.Event = field(default_factory=threading.Event)
    # what jobs that move content need (replication): the blob store and the settings
    storage: StorageDriver | None = None
    settings: Any = None

    def log(self, message: str) -> None:
        self.log_writer.write(message)

    def should_stop(self) -> bool:
        return self.stop_event.is_set()


class LeaseKeeper:
    """The heartbeat of one process: renews the leases of the tasks it runs every third of
    the lease, and passes a stop asked through the API to the running job."""

    def __init__(self, db: Database, lease_seconds: float) -> None:
        self.db = db
        self.lease_seconds = lease_seconds
        self._held: dict[int, tuple[str, threading.Event]] = {}
        self._last_renewal = time.monotonic()
        self._lock = threading.Lock()

    def hold(self, claim: queue.Claim, stop_event: threading.Event) -> None:
        with self._lock:
            self._held[claim.task_id] = (claim.owner, stop_event)

    def release(self, task_id: int) -> None:
        with self._lock:
            self._held.pop(task_id, None)

    def beat(self) -> None:
        """Renew; a job whose lease cannot be renewed for a whole lease (the database is out
        of reach) is stopped, since another process may already have re-queued it."""
        with self._lock:
            held = dict(self._held)
        by_owner: dict[str, list[int]] = {}
        for task_id, (owner, _) in held.items():
            by_owner.setdefault(owner, []).append(task_id)
        try:
            for owner, ids in by_owner.items():
                for task_id in queue.renew(self.db, owner, ids, self.lease_seconds):
                    held[task_id][1].set()
        except Exception:
            if time.monotonic() - self._last_renewal > self.lease_seconds:
                for _, stop_event in held.values():
                    stop_event.set()
            raise
        self._last_renewal = time.monotonic()


def execute(
    db: Database,
    storage: StorageDriver,
    keeper: LeaseKeeper,
    claim: queue.Claim,
    settings: Any = None,
) -> str | None:
    """Run the claimed task to an outcome; returns its new status (None: lease lost)."""
    ctx = JobContext(
        task_id=claim.task_id,
        execution_id=claim.execution_id,
        run_count=claim.run_count,
        params=json.loads(claim.params or "{}"),
        db=db,
        log_writer=TaskLog(storage, claim.task_id),
        storage=storage,
        settings=settings,
    )
    keeper.hold(claim, ctx.stop_event)
    error: str | None = None
    try:
        ctx.log(f"run {claim.run_count} of {claim.job_type} task {claim.task_id} started")
        types.get(claim.job_type).run(ctx)
    except Exception as exc:  # a job's failure is recorded, never raised into the worker
        error = f"{type(exc).__name__}: {exc}"
        _log_quietly(ctx, f"run {claim.run_count} failed: {error}\n{traceback.format_exc()}")
    finally:
        keeper.release(claim.task_id)
    stopped = ctx.should_stop()
    outcome = _record(db, claim, error, stopped)
    _log_quietly(ctx, f"run {claim.run_count} ended: {outcome or 'lease lost, outcome dropped'}")
    return outcome


def _record(db: Database, claim: queue.Claim, error: str | None, stopped: bool) -> str | None:
    """Store the outcome, trying again through a short database outage (past the lease the
    write is refused anyway: the task has been re-queued)."""
    for attempt in range(5):
        try:
            return queue.finish(db, claim, error, stopped=stopped)
        except Exception as exc:
            if attempt == 4:
                log.error("task %s: cannot record its outcome: %s", claim.task_id, exc)
                return None
            time.sleep(1 + attempt)
    return None


def _log_quietly(ctx: JobContext, message: str) -> None:
    try:
        ctx.log(message)
    except Exception as exc:  # a full disk must not keep the outcome from the database
        log.warning("task %s: cannot write its log: %s", ctx.task_id, exc)
