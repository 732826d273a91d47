"""Attach labels to artifacts and detach them (global labels, or the project's own)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from harbor_api.db.models import ArtifactLabel, Label
from harbor_api.errors import BadRequestError, ConflictError, NotFoundError
from harbor_api.services import audit
from harbor_api.services.context import RequestContext
from harbor_api.services.lookup import artifact, authorized_repository


def add_label(
    ctx: RequestContext,
    project_name: str,
    repository_name: str,
    reference: str,
    label_id: int | None,
) -> None:
    if not label_id:
        raise BadRequestError("the label id is required")
    with ctx.db.transaction() as s:
        project, repo = authorized_repository(
            s, ctx.principal, project_name, repository_name, "artifact-label", "create"
        )
        found = artifact(s, repo, reference)
        label = s.get(Label, label_id)
        if label is None or (label.scope == "p" and label.project_id != project.id):
            raise NotFoundError(f"label {label_id} not found in project {project.name}")
        if s.scalar(
            select(ArtifactLabel.id).where(
                ArtifactLabel.artifact_id == found.id, ArtifactLabel.label_id == label.id
            )
        ):
            raise ConflictError(f"label {label.name} is already attached")
        s.add(ArtifactLabel(artifact_id=found.id, label_id=label.id))
        try:
            s.flush()
        except IntegrityError:  # attached concurrently
            raise ConflictError(f"label {label.name} is already attached") from None
        audit.record(
            s,
            ctx.principal,
            "create",
            "artifact-label",
            f"{repo.name}@{found.digest}:{label.name}",
            project.id,
        )


def remove_label(
    ctx: RequestContext, project_name: str, repository_name: str, reference: str, label_id: int
) -> None:
    with ctx.db.transaction() as s:
        project, repo = authorized_repository(
            s, ctx.principal, project_name, repository_name, "artifact-label", "delete"
        )
        found = artifact(s, repo, reference)
        link = s.scalar(
            select(ArtifactLabel).where(
                ArtifactLabel.artifact_id == found.id, ArtifactLabel.label_id == label_id
            )
        )
        if link is None:
            raise NotFoundError(f"label {label_id} is not attached to {reference}")
        name = s.scalar(select(Label.name).where(Label.id == label_id)) or str(label_id)
        audit.record(
            s,
            ctx.principal,
            "delete",
            "artifact-label",
            f"{repo.name}@{found.digest}:{name}",
            project.id,
        )
        s.delete(link)
