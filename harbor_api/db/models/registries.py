"""Registry endpoints: the other registries replication and proxy-cache projects talk to."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from harbor_api.db.base import Base, UTCDateTime, utcnow


class RegistryEndpoint(Base):
    """Harbor's ``registry`` row. ``access_secret`` holds the secret encrypted by
    :mod:`harbor_api.auth.credential_cipher` (never the plain text); ``status`` is what the
    latest check found (``healthy``, ``unhealthy``, ``unknown``)."""

    __tablename__ = "registries"
    __table_args__ = {"sqlite_autoincrement": True}  # ids in policies are never reused

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    url: Mapped[str] = mapped_column(String(512))
    type: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text, default="")
    insecure: Mapped[bool] = mapped_column(Boolean, default=False)
    credential_type: Mapped[str] = mapped_column(String(16), default="")
    access_key: Mapped[str] = mapped_column(String(255), default="")
    access_secret: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="unknown")
    creation_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
