"""The job service's persistent state: Harbor's execution/task model, schedules, queues.

The database is the source of truth whichever queue dispatches the work (see
``docs/jobs.md``): a task row is claimed by a lease (owner + expiry renewed by heartbeat),
so a task whose worker died is re-queued when its lease expires, never run twice at once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from harbor_api.db.base import Base, UTCDateTime, utcnow


class Execution(Base):
    """One run of something (an audit purge, a replication policy …); status from its tasks."""

    __tablename__ = "executions"
    # ids are never reused (SQLite AUTOINCREMENT): a client holding an old id never sees another
    __table_args__ = (
        Index("ix_executions_vendor", "vendor_type", "vendor_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vendor_type: Mapped[str] = mapped_column(String(64))
    vendor_id: Mapped[int] = mapped_column(Integer, default=-1)
    trigger: Mapped[str] = mapped_column(String(32), default="MANUAL")
    # internal job statuses (harbor_api.jobs.status); the API shows Harbor's names
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    status_message: Mapped[str] = mapped_column(Text, default="")
    extra_attrs: Mapped[str] = mapped_column(Text, default="{}")
    start_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    end_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Task(Base):
    """One job of an execution; what a worker claims, runs, retries and logs."""

    __tablename__ = "tasks"
    # ids are never reused: a task's stored log (jobs/logs/<task id>.log) is its own
    __table_args__ = (
        Index("ix_tasks_queue", "status", "next_attempt_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    execution_id: Mapped[int] = mapped_column(
        ForeignKey("executions.id", ondelete="CASCADE"), index=True
    )
    job_type: Mapped[str] = mapped_column(String(64), index=True)
    params: Mapped[str] = mapped_column(Text, default="{}")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    status_message: Mapped[str] = mapped_column(Text, default="")
    run_count: Mapped[int] = mapped_column(Integer, default=0)
    stop_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # the lease: who runs it, until when (renewed by the worker's heartbeat)
    lease_owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # when the Redis queue last got this task (None: not handed to Redis since it was pending)
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    creation_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    start_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    end_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Schedule(Base):
    """A cron schedule (Harbor's 6 fields, seconds first) that starts an execution.

    Firing is a compare-and-set of ``next_fire_at`` in the transaction that enqueues, so of
    several server processes exactly one fires each occurrence."""

    __tablename__ = "schedules"
    __table_args__ = (Index("ix_schedules_vendor", "vendor_type", "vendor_id", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vendor_type: Mapped[str] = mapped_column(String(64))
    vendor_id: Mapped[int] = mapped_column(Integer, default=-1)
    job_type: Mapped[str] = mapped_column(String(64))
    cron: Mapped[str] = mapped_column(String(128))
    params: Mapped[str] = mapped_column(Text, default="{}")
    extra_attrs: Mapped[str] = mapped_column(Text, default="{}")
    next_fire_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    creation_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class JobQueueState(Base):
    """A job type's queue switch shared by every process: paused queues are not claimed."""

    __tablename__ = "job_queues"

    job_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)


class JobWorker(Base):
    """A worker thread of a pool (one pool per process), as ``/jobservice/pools`` shows it."""

    __tablename__ = "job_workers"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    pool_id: Mapped[str] = mapped_column(String(128), index=True)
    host: Mapped[str] = mapped_column(String(255), default="")
    pid: Mapped[int] = mapped_column(Integer, default=0)
    concurrency: Mapped[int] = mapped_column(Integer, default=1)
    job_name: Mapped[str] = mapped_column(String(64), default="")
    job_id: Mapped[str] = mapped_column(String(64), default="")
    start_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    checkin_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    heartbeat_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
