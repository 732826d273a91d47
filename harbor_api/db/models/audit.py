"""The audit log: who did what to which resource, and when."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from harbor_api.db.base import Base, UTCDateTime, utcnow


class AuditLog(Base):
    __tablename__ = "audit_logs"
    __table_args__ = (  # ids are never reused, even after a purge took the newest rows
        Index("ix_audit_logs_project_time", "project_id", "op_time"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # create, update, delete, pull, push, denied, login_failed ...
    operation: Mapped[str] = mapped_column(String(64), index=True)
    resource_type: Mapped[str] = mapped_column(String(64), index=True)
    resource: Mapped[str] = mapped_column(String(1024))
    username: Mapped[str] = mapped_column(String(255), index=True)
    op_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # the tamper-evidence chain (harbor_api.db.audit_records): SHA-256 over the previous hash
    # and this row's fields
    prev_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    hash: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AuditChainHead(Base):
    """The one row (id 1) holding the newest audit row's hash. Every append updates it first,
    which serialises appends across processes (row lock on PostgreSQL, the write lock on
    SQLite), so the chain stays linear."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_hash: Mapped[str] = mapped_column(String(64))
    appends: Mapped[int] = mapped_column(BigInteger, default=0)


class AuditChainCheckpoint(Base):
    """A purged audit row's hash that a kept row links to: the verifier accepts the gap.
    ``successor_id`` is the kept row after the gap; NULL when the purge took the newest rows
    (the next appended row then links to ``purged_hash``)."""

    __tablename__ = "audit_chain_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purged_hash: Mapped[str] = mapped_column(String(64), index=True)
    successor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    purged_rows: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
