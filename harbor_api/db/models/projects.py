"""Projects, their metadata and members, and the system configuration store."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from harbor_api.db.base import Base, UTCDateTime, utcnow


class Project(Base):
    __tablename__ = "projects"
    # Never reuse ids on SQLite: a recreated project must not inherit old audit entries or
    # tokens that named the old id.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True, index=True)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    registry_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    creation_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    metadata_entries: Mapped[list[ProjectMetadata]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", passive_deletes=True
    )


class CVEAllowlist(Base):
    """A project's CVE allowlist (Harbor's CVEAllowlist): ``items`` is a JSON list of
    ``{"cve_id": ...}``; ``expires_at`` Unix seconds, NULL = never. The system allowlist
    (``/system/CVEAllowlist``, Harbor's project 0) is the row whose ``project_id`` is NULL."""

    __tablename__ = "cve_allowlists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), unique=True, index=True, nullable=True
    )
    expires_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    items: Mapped[str] = mapped_column(Text, default="[]")
    creation_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ProjectMetadata(Base):
    """Harbor keeps project metadata as string key/value pairs ("true"/"false")."""

    __tablename__ = "project_metadata"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")


class ProjectMember(Base):
    """A user (entity_type "u") or group ("g") with a role in a project."""

    __tablename__ = "project_members"
    __table_args__ = (
        UniqueConstraint(
            "project_id", "entity_type", "entity_id", name="uq_project_members_entity"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    entity_id: Mapped[int] = mapped_column(Integer, index=True)
    entity_type: Mapped[str] = mapped_column(String(1))
    role: Mapped[int] = mapped_column(Integer)
    creation_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ConfigEntry(Base):
    """One system configuration key; ``value`` is JSON text."""

    __tablename__ = "configurations"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Repository(Base):
    """A repository ``<project>/<path>``; ``name`` is the full name including the project.

    Owned by the registry core; the management API reads it.
    """

    __tablename__ = "repositories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255), unique=True, index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    pull_count: Mapped[int] = mapped_column(Integer, default=0)
    creation_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
