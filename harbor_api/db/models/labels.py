"""Labels (global or per project) and their attachment to artifacts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from harbor_api.db.base import Base, UTCDateTime, utcnow


class Label(Base):
    """``scope`` is "g" (global, ``project_id`` NULL) or "p" (one project's label)."""

    __tablename__ = "labels"
    __table_args__ = (  # ids are never reused (SQLite AUTOINCREMENT)
        Index("ix_labels_scope_project_name", "scope", "project_id", "name"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    color: Mapped[str] = mapped_column(String(16), default="")
    scope: Mapped[str] = mapped_column(String(1), default="g")
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), nullable=True, index=True
    )
    creation_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ArtifactLabel(Base):
    __tablename__ = "artifact_labels"
    __table_args__ = (
        UniqueConstraint("artifact_id", "label_id", name="uq_artifact_labels_artifact_label"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    artifact_id: Mapped[int] = mapped_column(
        ForeignKey("artifacts.id", ondelete="CASCADE"), index=True
    )
    label_id: Mapped[int] = mapped_column(ForeignKey("labels.id", ondelete="CASCADE"), index=True)
    creation_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
