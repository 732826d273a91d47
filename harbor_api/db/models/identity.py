"""Users, groups and browser sessions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from harbor_api.db.base import Base, UTCDateTime, utcnow


class User(Base):
    __tablename__ = "users"
    __table_args__ = {"sqlite_autoincrement": True}  # ids are never reused

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(255), unique=True, index=True)
    email: Mapped[str | None] = mapped_column(String(255), unique=True, nullable=True)
    realname: Mapped[str] = mapped_column(String(255), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    password_hash: Mapped[str] = mapped_column(String(512), default="")
    sysadmin: Mapped[bool] = mapped_column(Boolean, default=False)
    auth_source: Mapped[str] = mapped_column(String(16), default="db")  # db | ldap
    ldap_dn: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    creation_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class UserGroup(Base):
    """A group of users; ``group_type`` 1 is an LDAP group identified by its DN."""

    __tablename__ = "user_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_name: Mapped[str] = mapped_column(String(255))
    group_type: Mapped[int] = mapped_column(Integer, default=1)
    ldap_group_dn: Mapped[str] = mapped_column(String(1024), default="", index=True)
    creation_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Session(Base):
    """A browser login; the cookie carries a random token whose SHA-256 is ``id``."""

    __tablename__ = "login_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    creation_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
