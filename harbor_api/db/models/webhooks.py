"""Webhook policies (Harbor's ``notification_policy``): which events of a project go where."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from harbor_api.db.base import Base, UTCDateTime, utcnow


class WebhookPolicy(Base):
    """A project's webhook policy. ``targets`` and ``event_types`` are JSON lists, checked on
    the way in (``services/webhooks/policies.py``); names are unique within a project."""

    __tablename__ = "webhook_policies"
    __table_args__ = (
        UniqueConstraint("project_id", "name", name="uq_webhook_policies_project_id_name"),
        {"sqlite_autoincrement": True},  # executions keep the policy id (vendor_id)
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(256))
    description: Mapped[str] = mapped_column(Text, default="")
    targets: Mapped[str] = mapped_column(Text, default="[]")
    event_types: Mapped[str] = mapped_column(Text, default="[]")
    creator: Mapped[str] = mapped_column(String(255), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    creation_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
