"""Replication policies: what moves between this registry and a registry endpoint."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from harbor_api.db.base import Base, UTCDateTime, utcnow


class ReplicationPolicy(Base):
    """Harbor's ``replication_policy`` row. A null ``src_registry_id`` (pull mode: set
    ``dest`` null instead) means this instance; exactly one side is a registry endpoint.
    ``filters`` is the JSON list of Harbor's filter objects, validated on the way in."""

    __tablename__ = "replication_policies"
    __table_args__ = {"sqlite_autoincrement": True}  # executions keep the policy id

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(256), unique=True, index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    src_registry_id: Mapped[int | None] = mapped_column(
        ForeignKey("registries.id"), nullable=True, index=True
    )
    dest_registry_id: Mapped[int | None] = mapped_column(
        ForeignKey("registries.id"), nullable=True, index=True
    )
    dest_namespace: Mapped[str] = mapped_column(String(255), default="")
    dest_namespace_replace_count: Mapped[int] = mapped_column(Integer, default=-1)
    trigger_type: Mapped[str] = mapped_column(String(16), default="manual")
    trigger_cron: Mapped[str] = mapped_column(String(64), default="")
    filters: Mapped[str] = mapped_column(Text, default="[]")
    replicate_deletion: Mapped[bool] = mapped_column(Boolean, default=False)
    override: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    speed: Mapped[int] = mapped_column(Integer, default=-1)
    copy_by_chunk: Mapped[bool] = mapped_column(Boolean, default=False)
    single_active_replication: Mapped[bool] = mapped_column(Boolean, default=False)
    creation_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ReplicationTaskProgress(Base):
    """Bytes a replication task has sent so far (its latest run), for the API's
    ``bytes_copied`` extension; written every few seconds while blobs stream."""

    __tablename__ = "replication_task_progress"

    task_id: Mapped[int] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    bytes_copied: Mapped[int] = mapped_column(BigInteger, default=0)
    # copy_by_chunk: the blob upload in progress and the bytes the destination acknowledged
    # (JSON {"digest", "repository", "location", "offset"}), so a later run resumes there
    resume_point: Mapped[str | None] = mapped_column(Text, nullable=True)
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
