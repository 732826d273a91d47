"""Registry metadata: blobs, their per-repository links, artifacts, tags, index children and
upload sessions. The bytes live in storage (see ``harbor_api.registry.paths``); these rows say
what exists where. Written by the registry core; read by the management API.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from harbor_api.db.base import Base, UTCDateTime, utcnow

DIGEST_LENGTH = 150  # "sha512:" + 128 hex digits, with room to spare


class Blob(Base):
    """Content stored once by digest, whichever repositories link to it."""

    __tablename__ = "blobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH), unique=True, index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(255), default="application/octet-stream")
    creation_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Garbage collection (docs/gc.md): ``none``, or ``deleting`` once a collection claimed it
    # with a compare-and-set; a push touches (``touched_at``) every blob it stores, links or
    # references, and refuses one that is ``deleting``.
    status: Mapped[str] = mapped_column(String(16), default="none", server_default="none")
    touched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RepositoryBlob(Base):
    """A blob visible in one repository; a cross-repository mount just adds a link."""

    __tablename__ = "repository_blobs"
    __table_args__ = (
        UniqueConstraint("repository_id", "digest", name="uq_repository_blobs_repository_digest"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repository_id: Mapped[int] = mapped_column(
        ForeignKey("repositories.id", ondelete="CASCADE"), index=True
    )
    blob_id: Mapped[int] = mapped_column(ForeignKey("blobs.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH))
    creation_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Artifact(Base):
    """One manifest (image, index or other artifact) in one repository."""

    __tablename__ = "artifacts"
    __table_args__ = (
        UniqueConstraint("repository_id", "digest", name="uq_artifacts_repository_digest"),
        Index("ix_artifacts_repository_subject", "repository_id", "subject_digest"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repository_id: Mapped[int] = mapped_column(
        ForeignKey("repositories.id", ondelete="CASCADE"), index=True
    )
    digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH), index=True)
    # the config media type for images, else the manifest media type
    media_type: Mapped[str] = mapped_column(String(255))
    manifest_media_type: Mapped[str] = mapped_column(String(255))
    artifact_type: Mapped[str] = mapped_column(String(255), default="")
    size: Mapped[int] = mapped_column(BigInteger, default=0)  # manifest + referenced blobs
    config_digest: Mapped[str | None] = mapped_column(String(DIGEST_LENGTH), nullable=True)
    subject_digest: Mapped[str | None] = mapped_column(String(DIGEST_LENGTH), nullable=True)
    annotations: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON object
    push_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    pull_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Tag(Base):
    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("repository_id", "name", name="uq_tags_repository_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repository_id: Mapped[int] = mapped_column(
        ForeignKey("repositories.id", ondelete="CASCADE"), index=True
    )
    artifact_id: Mapped[int] = mapped_column(
        ForeignKey("artifacts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    push_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    pull_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ArtifactReference(Base):
    """An index (parent) and one of the manifests it lists (child)."""

    __tablename__ = "artifact_references"
    __table_args__ = (
        UniqueConstraint("parent_id", "child_id", name="uq_artifact_references_parent_child"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parent_id: Mapped[int] = mapped_column(
        ForeignKey("artifacts.id", ondelete="CASCADE"), index=True
    )
    child_id: Mapped[int] = mapped_column(
        ForeignKey("artifacts.id", ondelete="CASCADE"), index=True
    )
    child_digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH))
    platform: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON object
    annotations: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON object


class Upload(Base):
    """A blob upload session; its bytes so far live in storage under ``storage_key``."""

    __tablename__ = "uploads"

    uuid: Mapped[str] = mapped_column(String(64), primary_key=True)
    repository: Mapped[str] = mapped_column(String(255), index=True)  # full repository name
    storage_key: Mapped[str] = mapped_column(String(1024))
    size: Mapped[int] = mapped_column(BigInteger, default=0)  # bytes received = next offset
    # The digest the first ``size`` bytes were verified to hash to, recorded by a finish
    # before it moves them under their blob key: a retried finish that finds the bytes gone
    # completes only this digest (None: not verified at this offset).
    verified_digest: Mapped[str | None] = mapped_column(String(DIGEST_LENGTH), nullable=True)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # who opened it (see harbor_api.services.oci.upload_limits); None for older sessions
    owner: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    # bytes this session holds toward its project's quota (see services.oci.quota_checks)
    reserved: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
