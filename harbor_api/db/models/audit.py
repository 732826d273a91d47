"""The audit log: who did what to which resource, and when."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from harbor_api.db.base import Base, UTCDateTime, utcnow


class AuditLog(Base):
    __tablename__ = "audit_logs"
    __table_args__ = (Index("ix_audit_logs_project_time", "project_id", "op_time"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # create, update, delete, pull, push, denied, login_failed ...
    operation: Mapped[str] = mapped_column(String(64), index=True)
    resource_type: Mapped[str] = mapped_column(String(64), index=True)
    resource: Mapped[str] = mapped_column(String(1024))
    username: Mapped[str] = mapped_column(String(255), index=True)
    op_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
