"""Robot accounts: non-human credentials limited to the permissions they were given."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from harbor_api.db.base import Base, UTCDateTime, utcnow


class Robot(Base):
    """``name`` is stored without the configurable prefix: ``<name>`` for a system robot,
    ``<project>+<name>`` for a project robot. ``expires_at`` is Unix seconds, -1 = never."""

    __tablename__ = "robots"
    __table_args__ = {"sqlite_autoincrement": True}  # ids are never reused

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True, index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    secret_hash: Mapped[str] = mapped_column(String(512))
    level: Mapped[str] = mapped_column(String(16))  # system | project
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), nullable=True, index=True
    )
    duration: Mapped[int] = mapped_column(Integer, default=-1)  # days, -1 = never expires
    expires_at: Mapped[int] = mapped_column(BigInteger, default=-1)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    permissions: Mapped[str] = mapped_column(Text, default="[]")  # JSON, Harbor's shape
    creator: Mapped[str] = mapped_column(String(255), default="")
    # Harbor's creator_type/creator_ref: "local" (a user) or "robot", and that one's id
    creator_type: Mapped[str] = mapped_column(String(16), default="", server_default="")
    creator_ref: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    creation_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
