"""Tag retention policies (Harbor's ``retention_policy``) and what each task found."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from harbor_api.db.base import Base, UTCDateTime, utcnow


class RetentionPolicy(Base):
    """One project's retention policy: ``rules`` is the JSON list of Harbor's rule objects,
    validated on the way in; the project's ``retention_id`` metadata names it."""

    __tablename__ = "retention_policies"
    __table_args__ = {"sqlite_autoincrement": True}  # executions keep the policy id

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), unique=True, index=True
    )
    algorithm: Mapped[str] = mapped_column(String(16), default="or")
    rules: Mapped[str] = mapped_column(Text, default="[]")
    trigger_kind: Mapped[str] = mapped_column(String(32), default="Schedule")
    trigger_cron: Mapped[str] = mapped_column(String(128), default="")
    creation_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RetentionTaskResult(Base):
    """How many artifacts a retention task (one repository) looked at and kept."""

    __tablename__ = "retention_task_results"

    task_id: Mapped[int] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    total: Mapped[int] = mapped_column(Integer, default=0)
    retained: Mapped[int] = mapped_column(Integer, default=0)
