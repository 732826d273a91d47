"""Artifacts through the management API: list, read, delete, build history, accessories."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, func, not_, or_, select

from harbor_api.db.models import Artifact, ArtifactLabel, ArtifactReference, Tag
from harbor_api.errors import NotFoundError
from harbor_api.services import audit, events, image_config
from harbor_api.services.artifact_view import (
    Options,
    media_types_of,
    render_accessory,
    render_many,
)
from harbor_api.services.context import RequestContext
from harbor_api.services.lookup import artifact, authorized_repository
from harbor_api.services.oci import artifacts as oci_artifacts
from harbor_api.services.query import (
    INT,
    Term,
    condition,
    order_by,
    page_and_total,
    parse_q,
)

_SORT = {
    "push_time": Artifact.push_time,
    "pull_time": Artifact.pull_time,
    "size": Artifact.size,
    "id": Artifact.id,
    "digest": Artifact.digest,
}


def _top_level():
    """Hide accessories (they show under their subject) and untagged index children."""
    is_child = exists().where(ArtifactReference.child_id == Artifact.id)
    tagged = exists().where(Tag.artifact_id == Artifact.id)
    return and_(Artifact.subject_digest.is_(None), or_(not_(is_child), tagged))


def _tag_condition(term: Term):
    if term.kind == "exact" and term.value == "*":
        return exists().where(Tag.artifact_id == Artifact.id)
    if term.kind == "exact" and term.value == "nil":
        return not_(exists().where(Tag.artifact_id == Artifact.id))
    return exists().where(Tag.artifact_id == Artifact.id, condition(Tag.name, term))


def _type_condition(term: Term):
    kinds = term.value if term.kind == "or" else (term.value,)
    conditions = []
    for kind in kinds:
        configs, manifests = media_types_of(str(kind))
        conditions.append(
            or_(Artifact.media_type.in_(configs), Artifact.manifest_media_type.in_(manifests))
        )
    return or_(*conditions)


def _filters(q: str | None) -> list:
    terms = parse_q(q, {"tags", "type", "media_type", "digest", "label_id"})
    where = []
    if "tags" in terms:
        where.append(_tag_condition(terms["tags"]))
    if "type" in terms:
        where.append(_type_condition(terms["type"]))
    if "media_type" in terms:
        where.append(
            or_(
                condition(Artifact.media_type, terms["media_type"]),
                condition(Artifact.manifest_media_type, terms["media_type"]),
            )
        )
    if "digest" in terms:
        where.append(condition(Artifact.digest, terms["digest"]))
    if "label_id" in terms:
        where.append(
            exists().where(
                ArtifactLabel.artifact_id == Artifact.id,
                condition(ArtifactLabel.label_id, terms["label_id"], INT),
            )
        )
    return where


def list_artifacts(
    ctx: RequestContext,
    project_name: str,
    repository_name: str,
    *,
    q: str | None,
    sort: str | None,
    offset: int,
    limit: int,
    opts: Options,
) -> tuple[list[dict], int]:
    order = order_by(sort, _SORT, [Artifact.push_time.desc(), Artifact.id.desc()])
    where = _filters(q)
    with ctx.db.read() as s:
        project, repo = authorized_repository(
            s, ctx.principal, project_name, repository_name, "artifact", "list"
        )
        where += [Artifact.repository_id == repo.id, _top_level()]
        page, total = page_and_total(
            s,
            select(Artifact).where(*where).order_by(*order),
            select(func.count()).select_from(Artifact).where(*where),
            offset,
            limit,
        )
        return render_many(s, ctx.app.storage, repo, page, opts), total


def get_artifact(
    ctx: RequestContext, project_name: str, repository_name: str, reference: str, opts: Options
) -> dict[str, Any]:
    with ctx.db.read() as s:
        project, repo = authorized_repository(
            s, ctx.principal, project_name, repository_name, "artifact", "read"
        )
        found = artifact(s, repo, reference)
        return render_many(s, ctx.app.storage, repo, [found], opts)[0]


def delete_artifact(
    ctx: RequestContext, project_name: str, repository_name: str, reference: str
) -> None:
    """Tags, label links, index references and accessories go; blob bytes stay for GC."""
    with ctx.db.transaction() as s:
        project, repo = authorized_repository(
            s, ctx.principal, project_name, repository_name, "artifact", "delete"
        )
        found = artifact(s, repo, reference)
        oci_artifacts.delete_artifact(s, found)  # the rule /v2 DELETE shares
        audit.record(
            s, ctx.principal, "delete", "artifact", f"{repo.name}@{found.digest}", project.id
        )
        deleted = events.ArtifactEvent(
            "delete", repo.name, found.digest, None, audit.actor(ctx.principal)
        )
    events.publish(ctx.db, deleted)  # after the commit, as /v2 DELETE does


def build_history(
    ctx: RequestContext, project_name: str, repository_name: str, reference: str
) -> list[dict]:
    with ctx.db.read() as s:
        project, repo = authorized_repository(
            s, ctx.principal, project_name, repository_name, "artifact-addition", "read"
        )
        found = artifact(s, repo, reference)
        config_digest = found.config_digest
    info = image_config.config_info(ctx.app.storage, config_digest)
    if not info:
        raise NotFoundError(f"no build history for {reference}")
    return info.get("history", [])


def addition(
    ctx: RequestContext, project_name: str, repository_name: str, reference: str, name: str
) -> dict[str, Any] | list[dict[str, Any]]:
    """``.../additions/{name}``: the build history; an empty vulnerability report (no
    scanner here, as Harbor without one) once the artifact is readable; nothing else."""
    if name == "vulnerabilities":
        get_artifact(ctx, project_name, repository_name, reference, Options(with_tag=False))
        return {}
    if name != "build_history":
        raise NotFoundError(f"addition {name} is not available for this artifact")
    return build_history(ctx, project_name, repository_name, reference)


def list_accessories(
    ctx: RequestContext,
    project_name: str,
    repository_name: str,
    reference: str,
    *,
    offset: int,
    limit: int,
) -> tuple[list[dict], int]:
    with ctx.db.read() as s:
        project, repo = authorized_repository(
            s, ctx.principal, project_name, repository_name, "accessory", "list"
        )
        subject = artifact(s, repo, reference)
        where = [Artifact.repository_id == repo.id, Artifact.subject_digest == subject.digest]
        rows, total = page_and_total(
            s,
            select(Artifact).where(*where).order_by(Artifact.id),
            select(func.count()).select_from(Artifact).where(*where),
            offset,
            limit,
        )
        return [render_accessory(a, subject, repo.name) for a in rows], total
