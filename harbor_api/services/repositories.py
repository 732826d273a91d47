"""Repositories through the management API: list, read, describe, delete."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from harbor_api.auth import rbac
from harbor_api.db.models import Artifact, Project, Repository
from harbor_api.services import audit, immutability
from harbor_api.services.context import RequestContext
from harbor_api.services.formats import iso, without_empty
from harbor_api.services.lookup import authorized_project, repository
from harbor_api.services.oci import quota_checks
from harbor_api.services.query import INT, TEXT, conditions, order_by, page_and_total, parse_q

_SORT = {
    "name": Repository.name,
    "creation_time": Repository.creation_time,
    "update_time": Repository.update_time,
    "pull_count": Repository.pull_count,
    "id": Repository.id,
}


def render(repo: Repository, artifact_count: int) -> dict[str, Any]:
    return without_empty(
        {
            "id": repo.id,
            "project_id": repo.project_id,
            "name": repo.name,
            "description": repo.description or "",
            "artifact_count": artifact_count,
            "pull_count": repo.pull_count or 0,
            "creation_time": iso(repo.creation_time),
            "update_time": iso(repo.update_time),
        },
        "description",
    )


def artifact_counts(session: Session, repo_ids: list[int]) -> dict[int, int]:
    if not repo_ids:
        return {}
    return dict(
        session.execute(
            select(Artifact.repository_id, func.count())
            .where(Artifact.repository_id.in_(repo_ids))
            .group_by(Artifact.repository_id)
        ).all()
    )


def list_repositories(
    ctx: RequestContext,
    project_name: str | None,
    *,
    q: str | None,
    sort: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict], int]:
    """One project's repositories, or (``project_name`` None) those of every project the
    caller can see. Three statements whatever the page size."""
    fields = {"name": (Repository.name, TEXT), "project_id": (Repository.project_id, INT)}
    where = conditions(parse_q(q, set(fields)), fields)
    order = order_by(sort, _SORT, [Repository.creation_time.desc(), Repository.id.desc()])
    with ctx.db.read() as s:
        if project_name is not None:
            project = authorized_project(s, ctx.principal, project_name, "repository", "list")
            where.append(Repository.project_id == project.id)
        else:
            visible = rbac.visible_project_filter(ctx.principal)
            if visible is not None:
                where.append(Repository.project_id.in_(select(Project.id).where(visible)))
        repos, total = page_and_total(
            s,
            select(Repository).where(*where).order_by(*order),
            select(func.count()).select_from(Repository).where(*where),
            offset,
            limit,
        )
        counts = artifact_counts(s, [r.id for r in repos])
        return [render(r, counts.get(r.id, 0)) for r in repos], total


def get_repository(ctx: RequestContext, project_name: str, repository_name: str) -> dict:
    with ctx.db.read() as s:
        project = authorized_project(s, ctx.principal, project_name, "repository", "read")
        repo = repository(s, project, repository_name)
        return render(repo, artifact_counts(s, [repo.id]).get(repo.id, 0))


def update_repository(
    ctx: RequestContext, project_name: str, repository_name: str, body: dict[str, Any]
) -> None:
    """Only the description is writable (as in Harbor)."""
    with ctx.db.transaction() as s:
        project = authorized_project(s, ctx.principal, project_name, "repository", "update")
        repo = repository(s, project, repository_name)
        repo.description = body.get("description") or ""
        audit.record(s, ctx.principal, "update", "repository", repo.name, project.id)


def delete_repository(ctx: RequestContext, project_name: str, repository_name: str) -> None:
    """The repository, its artifacts, tags, label links and blob links go in one
    transaction (ON DELETE CASCADE); blob bytes stay for garbage collection."""
    with ctx.db.transaction() as s:
        project = authorized_project(s, ctx.principal, project_name, "repository", "delete")
        repo = repository(s, project, repository_name)
        immutability.check_repository_delete(s, project.id, repo.name)
        audit.record(s, ctx.principal, "delete", "repository", repo.name, project.id)
        s.delete(repo)
        s.flush()
        quota_checks.recount(s, project.id)  # its blob links went: give their bytes back
