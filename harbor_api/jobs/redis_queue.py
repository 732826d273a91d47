"""The scale-out queue: task ids on an RQ (Redis Queue) queue, run by worker processes.

The database stays the source of truth: a Redis message only says "task N may be due";
the worker claims the task in the database (the same lease as the database queue) and
runs the same job code, so a duplicate or lost message neither runs a task twice nor loses
it (an undelivered task is dispatched again once ``dispatched_at`` is stale). Why RQ:
``docs/adr/0009-job-queue.md``.
"""

from __future__ import annotations

import logging

from harbor_api.settings import Settings

log = logging.getLogger(__name__)

_RUNTIME: dict[str, object] = {}  # the worker process's job service, for run_task


def connect(settings: Settings):
    from redis import Redis

    return Redis.from_url(settings.redis_url)


class RedisDispatcher:
    """Hands due task ids to the RQ queue named by the ``job_redis_queue`` setting."""

    def __init__(self, settings: Settings) -> None:
        from rq import Queue

        self.queue = Queue(settings.job_redis_queue, connection=connect(settings))

    def dispatch(self, task_ids: list[int]) -> None:
        for task_id in task_ids:
            self.queue.enqueue(
                "harbor_api.jobs.redis_queue.run_task", task_id, result_ttl=0, failure_ttl=3600
            )


def run_task(task_id: int) -> str | None:
    """RQ's entry point in a worker process: claim task ``task_id`` and run it."""
    from harbor_api.jobs import queue

    service = _RUNTIME["service"]
    worker = _RUNTIME["worker"]
    claim = queue.claim_task(service.db, task_id, worker, service.lease_seconds)
    if claim is None:
        return None  # already taken, finished, stopped, paused or not yet due
    return service.run_one(worker, claim)


def run_worker(settings: Settings, burst: bool = False) -> int:
    """``harbor-api jobs-worker``: one RQ worker (no fork per job, so the lease heartbeat
    and the database pool are shared) plus this process's scheduler loop."""
    from rq import SimpleWorker

    from harbor_api.db.session import Database
    from harbor_api.jobs.service import JobService
    from harbor_api.services.webhooks.notify import Notifier

    db = Database(settings.resolved_database_url, settings.database_busy_timeout_seconds)
    # what its jobs finish or delete is announced as in the server (webhook events)
    notifier = Notifier(
        db, settings.resolved_external_url, settings.webhook_policy_cache_seconds
    ).install()
    service = JobService.for_settings(db, settings, run_workers=False)
    _register_single_worker(service)
    _RUNTIME.update(service=service, worker=service.worker_id(0))
    service.start(scheduler=True)
    try:
        worker = SimpleWorker([settings.job_redis_queue], connection=connect(settings))
        worker.work(burst=burst, with_scheduler=False, logging_level="WARNING")
    finally:
        service.stop()
        notifier.uninstall()
        db.dispose()
    return 0


def _register_single_worker(service) -> None:
    """The RQ worker shows as one worker of this process's pool."""
    import os
    import socket

    from harbor_api.db.base import utcnow
    from harbor_api.db.models import JobWorker

    with service.db.transaction() as s:
        s.add(
            JobWorker(
                id=service.worker_id(0),
                pool_id=service.pool_id,
                host=socket.gethostname(),
                pid=os.getpid(),
                concurrency=1,
                start_at=utcnow(),
                heartbeat_at=utcnow(),
            )
        )
