"""The job service of one process: its worker pool and its scheduler loop.

``job_queue: database`` (the embedded default): ``job_workers`` threads claim tasks from
the database queue. ``job_queue: redis``: the server only dispatches due tasks to an RQ
queue, and ``harbor-api jobs-worker`` processes run them (:mod:`harbor_api.jobs.redis_queue`).
Either way each process runs the scheduler loop: fire due schedules, re-queue tasks whose
lease expired, and forget worker rows whose process is gone.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field

from sqlalchemy import delete, update

from harbor_api.db.base import utcnow
from harbor_api.db.models import JobWorker
from harbor_api.db.session import Database
from harbor_api.jobs import queue, schedules, types
from harbor_api.jobs.runner import LeaseKeeper, execute
from harbor_api.registry.storage import make_driver
from harbor_api.registry.storage.base import StorageDriver
from harbor_api.settings import Settings

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5  # how often an idle worker looks for work, and the scheduler ticks


@dataclass
class JobService:
    db: Database
    storage: StorageDriver
    settings: Settings
    run_workers: bool = True  # False: a server on the Redis queue (separate worker processes)
    pool_id: str = field(
        default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    )
    _stopping: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lease_seconds = float(self.settings.job_lease_seconds)
        self.keeper = LeaseKeeper(self.db, self.lease_seconds)
        self._last_sweep = 0.0
        self.dispatcher = None
        if self.settings.job_queue == "redis":
            from harbor_api.jobs.redis_queue import RedisDispatcher

            self.dispatcher = RedisDispatcher(self.settings)

    @classmethod
    def for_settings(
        cls,
        db: Database,
        settings: Settings,
        *,
        run_workers: bool | None = None,
        storage: StorageDriver | None = None,
    ) -> JobService:
        types.load_modules(settings.job_modules)
        if storage is None:  # a standalone worker process (``harbor-api jobs-worker``)
            storage = make_driver(settings.storage_driver, settings.resolved_storage_root)
        if run_workers is None:
            run_workers = settings.job_queue == "database"
        return cls(db=db, storage=storage, settings=settings, run_workers=run_workers)

    @property
    def concurrency(self) -> int:
        return self.settings.job_workers if self.run_workers else 0

    def start(self, scheduler: bool = True) -> None:
        self._register_workers(self.concurrency)
        self._spawn("heartbeat", self._heartbeat_loop)
        if scheduler:
            self._spawn("scheduler", self._scheduler_loop)
        for n in range(self.concurrency):
            self._spawn(f"worker-{n}", self._worker_loop, self.worker_id(n))

    def stop(self, timeout: float = 5.0) -> None:
        """Stop claiming; give running tasks ``timeout`` seconds. A task still running then
        keeps its lease, which expires: another process (or the next start) re-queues it."""
        self._stopping.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        try:
            with self.db.transaction() as s:
                s.execute(delete(JobWorker).where(JobWorker.pool_id == self.pool_id))
        except Exception as exc:  # the database may be gone at shutdown; the rows age out
            log.warning("job service: cannot remove this pool's worker rows: %s", exc)

    def worker_id(self, n: int) -> str:
        return f"{self.pool_id}-w{n}"

    def _spawn(self, name: str, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, name=f"jobs-{name}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _register_workers(self, count: int) -> None:
        with self.db.transaction() as s:
            for n in range(count):
                s.add(
                    JobWorker(
                        id=self.worker_id(n),
                        pool_id=self.pool_id,
                        host=socket.gethostname(),
                        pid=os.getpid(),
                        concurrency=count,
                        start_at=utcnow(),
                        heartbeat_at=utcnow(),
                    )
                )

    def run_one(self, worker: str, claim: queue.Claim) -> str | None:
        """Run a claimed task, showing it on this worker's row meanwhile."""
        self._mark_worker(worker, claim.job_type, str(claim.task_id))
        try:
            return execute(self.db, self.storage, self.keeper, claim, self.settings)
        finally:
            self._mark_worker(worker, "", "")

    def _mark_worker(self, worker: str, job_name: str, job_id: str) -> None:
        try:
            with self.db.transaction() as s:
                s.execute(
                    update(JobWorker)
                    .where(JobWorker.id == worker)
                    .values(
                        job_name=job_name, job_id=job_id, checkin_at=utcnow() if job_id else None
                    )
                )
        except Exception as exc:  # what the monitor shows must never fail a job
            log.warning("job service: cannot update worker %s: %s", worker, exc)

    def _worker_loop(self, worker: str) -> None:
        while not self._stopping.is_set():
            try:
                claim = queue.claim_next(self.db, worker, self.lease_seconds)
            except Exception as exc:  # database unavailable: wait and try again
                log.warning("job worker %s: cannot claim: %s", worker, exc)
                claim = None
            if claim is None:
                self._stopping.wait(POLL_SECONDS)
                continue
            self.run_one(worker, claim)

    def _heartbeat_loop(self) -> None:
        while not self._stopping.wait(self.lease_seconds / 3):
            try:
                self.keeper.beat()
                with self.db.transaction() as s:
                    s.execute(
                        update(JobWorker)
                        .where(JobWorker.pool_id == self.pool_id)
                        .values(heartbeat_at=utcnow())
                    )
            except Exception as exc:
                log.warning("job service heartbeat failed: %s", exc)

    def _scheduler_loop(self) -> None:
        # ticks on the wall clock's half seconds: a schedule fires within a few ms of its
        # time, in every process at once (the compare-and-set picks the one that fires it)
        while not self._stopping.wait(POLL_SECONDS - time.time() % POLL_SECONDS + 0.005):
            try:
                self.tick()
            except Exception as exc:
                log.warning("job scheduler tick failed: %s", exc)

    def tick(self) -> None:
        """One round of the scheduler loop (also called directly by tests)."""
        schedules.fire_due(self.db)
        queue.requeue_expired(self.db)
        if time.monotonic() - self._last_sweep > self.lease_seconds:  # a write: now and then
            self._last_sweep = time.monotonic()
            self._forget_lost_pools()
        if self.dispatcher is not None:
            self.dispatcher.dispatch(queue.due_undispatched(self.db, 3 * self.lease_seconds))

    def _forget_lost_pools(self) -> None:
        import datetime as dt

        horizon = utcnow() - dt.timedelta(seconds=3 * self.lease_seconds)
        with self.db.transaction() as s:
            s.execute(delete(JobWorker).where(JobWorker.heartbeat_at < horizon))
