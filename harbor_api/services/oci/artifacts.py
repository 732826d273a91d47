"""Artifacts (pushed manifests), their tags, index children and referrers."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, Select, bindparam, delete, func, or_, select
from sqlalchemy.orm import Session

from harbor_api.db.audit_records import add_records
from harbor_api.db.base import utcnow
from harbor_api.db.models import (
    Artifact,
    ArtifactBlob,
    ArtifactLabel,
    ArtifactReference,
    Blob,
    Repository,
    Tag,
)
from harbor_api.errors import BadRequestError, ManifestBlobUnknownError
from harbor_api.registry.manifests import ParsedManifest
from harbor_api.services import immutability
from harbor_api.services.oci import blob_states, quota_checks
from harbor_api.services.oci.repositories import link_blob, missing_blobs
from harbor_api.services.oci.upserts import table


@dataclass(frozen=True)
class ManifestRef:
    """What a manifest GET/HEAD needs: where the bytes are and how to label them."""

    digest: str
    media_type: str
    size: int


def _json(value: object) -> str | None:
    return json.dumps(value, sort_keys=True) if value else None


def referenced_blobs(parsed: ParsedManifest) -> set[str]:
    """The config and layers a manifest references (foreign layers are stored elsewhere)."""
    return {
        d.digest
        for d in ([parsed.config] if parsed.config else []) + list(parsed.layers)
        if not d.is_foreign
    }


def check_references(session: Session, repo_id: int, parsed: ParsedManifest) -> dict[str, int]:
    """Raise MANIFEST_BLOB_UNKNOWN unless every referenced blob / child manifest is in the
    repository; return the artifact ids of index children by digest."""
    blobs = referenced_blobs(parsed)
    missing = missing_blobs(session, repo_id, blobs)
    children: dict[str, int] = {}
    if parsed.manifests:
        wanted = {d.digest for d in parsed.manifests}
        children = dict(
            session.execute(
                select(Artifact.digest, Artifact.id).where(
                    Artifact.repository_id == repo_id, Artifact.digest.in_(wanted)
                )
            ).all()
        )
        missing |= wanted - set(children)
    # Referenced blobs a collection has claimed are as good as gone (docs/gc.md); the rest
    # are touched in this transaction, so no collection claims them from under it.
    missing |= blob_states.touch(session, blobs | {d.digest for d in parsed.manifests})
    if missing:
        first = sorted(missing)[0]
        raise ManifestBlobUnknownError(
            f"manifest references unknown blob or manifest {first}", detail={"digest": first}
        )
    return children


def record_manifest(
    session: Session,
    repo_id: int,
    digest: str,
    body_size: int,
    parsed: ParsedManifest,
    tag: str | None,
    stored: Callable[[str], bool],
) -> Artifact:
    """Create or refresh the artifact for a verified manifest (and move ``tag`` to it)."""
    children = check_references(session, repo_id, parsed)
    link_blob(session, repo_id, digest, body_size, parsed.media_type, stored)
    now = utcnow()
    artifact = session.scalar(
        select(Artifact).where(Artifact.repository_id == repo_id, Artifact.digest == digest)
    )
    if artifact is None:
        artifact = Artifact(
            repository_id=repo_id,
            digest=digest,
            media_type=parsed.config.media_type if parsed.config else parsed.media_type,
            manifest_media_type=parsed.media_type,
            artifact_type=parsed.effective_artifact_type,
            size=body_size + parsed.referenced_size(),
            config_digest=parsed.config.digest if parsed.config else None,
            subject_digest=parsed.subject.digest if parsed.subject else None,
            annotations=_json(parsed.annotations),
            push_time=now,
        )
        session.add(artifact)
        session.flush()
        quota_checks.record_artifact_blobs(session, artifact.id, referenced_blobs(parsed))
        for child in parsed.manifests:
            if child.digest in children:
                session.add(
                    ArtifactReference(
                        parent_id=artifact.id,
                        child_id=children.pop(child.digest),
                        child_digest=child.digest,
                        platform=_json(child.platform),
                        annotations=_json(child.annotations),
                    )
                )
    else:
        artifact.push_time = now
    if tag is not None:
        _move_tag(session, repo_id, tag, artifact.id, now)
    session.execute(
        table(Repository).update().where(Repository.id == repo_id).values(update_time=now)
    )
    return artifact


def _move_tag(
    session: Session, repo_id: int, name: str, artifact_id: int, now: dt.datetime
) -> None:
    existing = session.scalar(select(Tag).where(Tag.repository_id == repo_id, Tag.name == name))
    if existing is None:
        session.add(Tag(repository_id=repo_id, artifact_id=artifact_id, name=name, push_time=now))
    elif existing.artifact_id != artifact_id:
        immutability.check_tag_change(session, repo_id, name)  # the only query it adds
        existing.artifact_id = artifact_id
        existing.push_time = now
    else:
        existing.push_time = now


_MANIFEST = (
    select(Artifact.digest, Artifact.manifest_media_type, Blob.size)
    .join(Repository, Repository.id == Artifact.repository_id)
    .join(Blob, Blob.digest == Artifact.digest)
    .where(Repository.name == bindparam("name"))
)
_MANIFEST_BY_DIGEST = _MANIFEST.where(Artifact.digest == bindparam("reference"))
_MANIFEST_BY_TAG = _MANIFEST.join(Tag, Tag.artifact_id == Artifact.id).where(
    Tag.name == bindparam("reference")
)
_TAGS_BY_NAME = (
    select(Tag.name)
    .join(Repository, Repository.id == Tag.repository_id)
    .where(Repository.name == bindparam("name"))
    .order_by(Tag.name)
)


def find_manifest(
    session: Session, name: str, reference: str, by_digest: bool
) -> ManifestRef | None:
    """Resolve a tag or digest in repository ``name`` (one query)."""
    query = _MANIFEST_BY_DIGEST if by_digest else _MANIFEST_BY_TAG
    row = session.connection().execute(query, {"name": name, "reference": reference}).first()
    return ManifestRef(*row) if row else None


def artifact_by_digest(session: Session, repo_id: int, digest: str) -> Artifact | None:
    return session.scalar(
        select(Artifact).where(Artifact.repository_id == repo_id, Artifact.digest == digest)
    )


def delete_artifact(session: Session, artifact: Artifact) -> int:
    """The one delete-artifact rule, for ``/v2`` DELETE and the API alike: refused while an
    index references the artifact (delete the index first); otherwise its tags, label
    links, index references and accessories go, with the index children nothing else
    needs. Blob bytes stay for garbage collection; refused while a tag of the artifact is
    immutable (412). Returns how many artifacts went."""
    parents = (
        session.scalar(
            select(func.count())
            .select_from(ArtifactReference)
            .where(ArtifactReference.child_id == artifact.id)
        )
        or 0
    )
    if parents:
        raise BadRequestError(
            f"artifact {artifact.digest} is referenced by an index; delete the index first"
        )
    immutability.check_artifact_delete(session, artifact.id)
    repo_id, gone = artifact.repository_id, set[str]()
    # The project's quota row first, as a push takes it first: a manifest put referencing
    # what this delete would unlink either committed before (and keeps it linked) or waits.
    project_id = session.scalar(select(Repository.project_id).where(Repository.id == repo_id))
    if project_id is not None:
        quota_checks.lock(session, project_id)
    removed = _delete_tree(session, artifact, gone)
    quota_checks.give_back_deleted(session, repo_id, gone)  # what nothing else references
    return removed


def delete_artifacts(
    session: Session, repo_id: int, artifacts: list[Artifact]
) -> tuple[list[Artifact], dict[int, str]]:
    """:func:`delete_artifact` for several artifacts of one repository (a retention run's
    batch), with the same refusals, in a few set-based statements: the quota row taken,
    the unlinking and the usage recount done once for them all. An artifact with index
    children or accessories goes through :func:`_delete_tree`. Returns (the deleted,
    {artifact id: why it was kept})."""
    if not artifacts:
        return [], {}
    ids = [a.id for a in artifacts]
    refused: dict[int, str] = {}
    for child_id in session.scalars(
        select(ArtifactReference.child_id).where(ArtifactReference.child_id.in_(ids)).distinct()
    ):
        refused[child_id] = "referenced by an index; delete the index first"
    for artifact_id, tag in immutability.immutable_among(session, ids).items():
        refused.setdefault(artifact_id, immutability.cannot_delete_message(tag))
    doomed = [a for a in artifacts if a.id not in refused]
    if not doomed:
        return [], refused
    project_id = session.scalar(select(Repository.project_id).where(Repository.id == repo_id))
    if project_id is not None:
        quota_checks.lock(session, project_id)
    doomed_ids = [a.id for a in doomed]
    gone = {a.digest for a in doomed} | set(
        session.scalars(select(ArtifactBlob.digest).where(ArtifactBlob.artifact_id.in_(doomed_ids)))
    )
    with_children = set(
        session.scalars(
            select(ArtifactReference.parent_id).where(ArtifactReference.parent_id.in_(doomed_ids))
        )
    )
    with_accessories = set(
        session.scalars(
            select(Artifact.subject_digest).where(
                Artifact.repository_id == repo_id,
                Artifact.subject_digest.in_([a.digest for a in doomed]),
            )
        )
    )
    trees = [a for a in doomed if a.id in with_children or a.digest in with_accessories]
    flat = [a.id for a in doomed if a not in trees]  # no references either way: none to drop
    if flat:
        session.execute(delete(Tag).where(Tag.artifact_id.in_(flat)))
        session.execute(delete(ArtifactLabel).where(ArtifactLabel.artifact_id.in_(flat)))
        session.execute(delete(Artifact).where(Artifact.id.in_(flat)))
    for artifact in trees:
        _delete_tree(session, artifact, gone)
    quota_checks.give_back_deleted(session, repo_id, gone, project_id)
    return doomed, refused


def _delete_tree(session: Session, artifact: Artifact, gone: set[str]) -> int:
    gone |= quota_checks.artifact_digests(session, artifact)
    children = list(
        session.scalars(
            select(ArtifactReference.child_id).where(ArtifactReference.parent_id == artifact.id)
        )
    )
    accessories = list(
        session.scalars(
            select(Artifact).where(
                Artifact.repository_id == artifact.repository_id,
                Artifact.subject_digest == artifact.digest,
            )
        )
    )
    session.execute(delete(Tag).where(Tag.artifact_id == artifact.id))
    session.execute(delete(ArtifactLabel).where(ArtifactLabel.artifact_id == artifact.id))
    session.execute(
        delete(ArtifactReference).where(
            or_(
                ArtifactReference.parent_id == artifact.id,
                ArtifactReference.child_id == artifact.id,
            )
        )
    )
    session.execute(delete(Artifact).where(Artifact.id == artifact.id))
    removed = 1
    for accessory in accessories:
        removed += _delete_tree(session, accessory, gone)
    for child_id in children:
        still_used = (
            session.scalar(
                select(func.count())
                .select_from(ArtifactReference)
                .where(ArtifactReference.child_id == child_id)
            )
            or 0
        )
        tagged = (
            session.scalar(select(func.count()).select_from(Tag).where(Tag.artifact_id == child_id))
            or 0
        )
        child = session.get(Artifact, child_id)
        if child is not None and not still_used and not tagged:
            removed += _delete_tree(session, child, gone)
    return removed


def delete_tag(session: Session, repo_id: int, tag: str) -> bool:
    """Delete the tag (False: none); an immutable one is refused, rolling the delete back
    with the caller's transaction (the rules are only read when there was a tag)."""
    result = cast(
        CursorResult[Any],
        session.execute(delete(Tag).where(Tag.repository_id == repo_id, Tag.name == tag)),
    )
    if result.rowcount:
        immutability.check_tag_delete(session, repo_id, tag)
    return bool(result.rowcount)


def list_tags(session: Session, repo_id: int, limit: int | None, last: str | None) -> list[str]:
    query = select(Tag.name).where(Tag.repository_id == repo_id).order_by(Tag.name)
    return _tag_page(session, query, limit, last)


def list_tags_by_name(
    session: Session, repository: str, limit: int | None, last: str | None
) -> list[str]:
    """Tags of the repository named ``repository`` (one query, joined by name); an empty
    list also when the repository does not exist."""
    if limit is None and not last:  # the common case: a prebuilt statement, Core execution
        return list(session.connection().execute(_TAGS_BY_NAME, {"name": repository}).scalars())
    query = (
        select(Tag.name)
        .join(Repository, Repository.id == Tag.repository_id)
        .where(Repository.name == repository)
        .order_by(Tag.name)
    )
    return _tag_page(session, query, limit, last)


def _tag_page(
    session: Session, query: Select[str], limit: int | None, last: str | None
) -> list[str]:
    if last:
        query = query.where(Tag.name > last)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def referrers(
    session: Session, repo_id: int, subject: str, artifact_type: str | None
) -> list[dict[str, Any]]:
    """Descriptors of the manifests in the repository whose ``subject`` is ``subject``."""
    query = (
        select(
            Artifact.manifest_media_type,
            Artifact.digest,
            Blob.size,
            Artifact.artifact_type,
            Artifact.annotations,
        )
        .join(Blob, Blob.digest == Artifact.digest)
        .where(Artifact.repository_id == repo_id, Artifact.subject_digest == subject)
        .order_by(Artifact.digest)
    )
    if artifact_type:
        query = query.where(Artifact.artifact_type == artifact_type)
    out = []
    for media_type, digest, size, kind, notes in session.execute(query):
        descriptor: dict[str, Any] = {"mediaType": media_type, "digest": digest, "size": size}
        if kind:
            descriptor["artifactType"] = kind
        if notes:
            descriptor["annotations"] = json.loads(notes)
        out.append(descriptor)
    return out


def record_pulls(session: Session, pulls: dict[tuple[str, str, str | None, str], int]) -> None:
    """Apply counted pulls: {(repository, digest, tag or None, username): count}."""
    now = utcnow()
    names = {key[0] for key in pulls}
    projects = dict(
        session.execute(
            select(Repository.name, Repository.project_id).where(Repository.name.in_(names))
        ).all()
    )
    per_repository: dict[str, int] = {}
    entries = []
    for (name, digest, tag, username), count in pulls.items():
        per_repository[name] = per_repository.get(name, 0) + count
        repo_id = select(Repository.id).where(Repository.name == name).scalar_subquery()
        session.execute(
            table(Artifact)
            .update()
            .where(Artifact.repository_id == repo_id, Artifact.digest == digest)
            .values(pull_time=now)
        )
        if tag is not None:
            session.execute(
                table(Tag)
                .update()
                .where(Tag.repository_id == repo_id, Tag.name == tag)
                .values(pull_time=now)
            )
        resource = f"{name}:{tag}" if tag is not None else f"{name}@{digest}"
        entries.extend(
            [
                {
                    "project_id": projects.get(name),
                    "operation": "pull",
                    "resource_type": "artifact",
                    "resource": resource[:1024],
                    "username": username,
                    "op_time": now,
                }
            ]
            * count
        )
    for name, count in per_repository.items():
        session.execute(
            table(Repository)
            .update()
            .where(Repository.name == name)
            .values(pull_count=Repository.pull_count + count, update_time=Repository.update_time)
        )  # a pull is not an update
    if entries:
        add_records(session, entries)
