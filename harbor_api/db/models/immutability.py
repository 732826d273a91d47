"""Immutable tag rules (Harbor's ``immutable_tag_rule``): per project, a repository
selector and a tag selector (doublestar globs, matches or excludes). A tag that an enabled
rule matches cannot be moved, deleted, or lose its artifact (``services/immutability.py``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from harbor_api.db.base import Base, UTCDateTime, utcnow


class ImmutableRule(Base):
    __tablename__ = "immutable_rules"
    __table_args__ = (
        UniqueConstraint("project_id", "selector_key", name="uq_immutable_rules_selectors"),
        {"sqlite_autoincrement": True},  # ids are never reused
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    priority: Mapped[int] = mapped_column(Integer, default=0)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    repo_decoration: Mapped[str] = mapped_column(String(16))  # repoMatches | repoExcludes
    repo_pattern: Mapped[str] = mapped_column(String(1024))
    tag_decoration: Mapped[str] = mapped_column(String(16))  # matches | excludes
    tag_pattern: Mapped[str] = mapped_column(String(1024))
    #: A hash of the four selector fields: two rules of a project may not share them.
    selector_key: Mapped[str] = mapped_column(String(64))
    params: Mapped[str] = mapped_column(Text, default="{}")
    creation_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
