"""Per-project storage quotas (Harbor's ``quota`` with reference ``project``).

``used`` counts the distinct blobs linked into the project's repositories (a blob shared by
several repositories counts once); ``reserved`` the bytes upload sessions hold toward the
limit until they finish or go. ``hard`` is the limit in bytes, -1 unlimited. Every change
runs as a conditional UPDATE of this one row, so concurrent pushes never overshoot.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from harbor_api.db.base import Base, UTCDateTime, utcnow
from harbor_api.db.models.registry import DIGEST_LENGTH


class Quota(Base):
    __tablename__ = "quotas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), unique=True, index=True
    )
    hard: Mapped[int] = mapped_column(BigInteger, default=-1)
    used: Mapped[int] = mapped_column(BigInteger, default=0)
    reserved: Mapped[int] = mapped_column(BigInteger, default=0)
    creation_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ArtifactBlob(Base):
    """A blob an artifact references (config and layers): what its delete may give back
    to the project's quota once no other artifact of the repository references it."""

    __tablename__ = "artifact_blobs"
    __table_args__ = (
        UniqueConstraint("artifact_id", "digest", name="uq_artifact_blobs_artifact_digest"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    artifact_id: Mapped[int] = mapped_column(
        ForeignKey("artifacts.id", ondelete="CASCADE"), index=True
    )
    digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH), index=True)
