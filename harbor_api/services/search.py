"""``GET /search``: projects and repositories whose name contains the keyword, limited to
what the caller may see; ``GET /statistics``: counts scoped the same way."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from harbor_api.auth import rbac
from harbor_api.db.models import Artifact, Blob, Project, ProjectMetadata, Repository, User
from harbor_api.services.context import RequestContext
from harbor_api.services.formats import iso
from harbor_api.services.query import like_pattern

SEARCH_LIMIT = 100  # results per kind; Harbor returns every match, we cap to stay fast


def _like(keyword: str) -> str:
    """Project and repository names are lowercase by grammar, so a case-insensitive match is
    a plain LIKE on the lowercased keyword (much cheaper than ILIKE on PostgreSQL)."""
    return like_pattern(keyword.lower())


def _public_ids():
    return select(ProjectMetadata.project_id).where(
        ProjectMetadata.name == "public", ProjectMetadata.value == "true"
    )


def search(ctx: RequestContext, keyword: str) -> dict[str, Any]:
    pattern = _like(keyword.strip())
    visible = rbac.visible_project_filter(ctx.principal)
    with ctx.db.read() as s:
        project_q = (
            select(Project, User.username)
            .outerjoin(User, User.id == Project.owner_id)
            .where(Project.name.like(pattern, escape="\\"))
            .order_by(Project.name)
            .limit(SEARCH_LIMIT)
        )
        repo_q = (
            select(Repository, Project.name)
            .join(Project, Project.id == Repository.project_id)
            .where(Repository.name.like(pattern, escape="\\"))
            .order_by(Repository.name)
            .limit(SEARCH_LIMIT)
        )
        if visible is not None:
            project_q = project_q.where(visible)
            repo_q = repo_q.where(visible)
        projects = s.execute(project_q).all()
        repos = s.execute(repo_q).all()
        project_ids = {p.id for p, _ in projects} | {r.project_id for r, _ in repos}
        public = set(s.scalars(_public_ids().where(ProjectMetadata.project_id.in_(project_ids))))
        repo_counts = dict(
            s.execute(
                select(Repository.project_id, func.count())
                .where(Repository.project_id.in_({p.id for p, _ in projects}))
                .group_by(Repository.project_id)
            ).all()
        )
        artifact_counts = dict(
            s.execute(
                select(Artifact.repository_id, func.count())
                .where(Artifact.repository_id.in_({r.id for r, _ in repos}))
                .group_by(Artifact.repository_id)
            ).all()
        )
        return {
            "project": [
                {
                    "project_id": p.id,
                    "owner_id": p.owner_id,
                    "name": p.name,
                    "owner_name": owner or "",
                    "creation_time": iso(p.creation_time),
                    "update_time": iso(p.update_time),
                    "deleted": False,
                    "repo_count": repo_counts.get(p.id, 0),
                    "metadata": {"public": "true" if p.id in public else "false"},
                }
                for p, owner in projects
            ],
            "repository": [
                {
                    "project_id": r.project_id,
                    "project_name": pname,
                    "project_public": r.project_id in public,
                    "repository_name": r.name,
                    "pull_count": r.pull_count or 0,
                    "artifact_count": artifact_counts.get(r.id, 0),
                }
                for r, pname in repos
            ],
        }


def statistics(ctx: RequestContext) -> dict[str, Any]:
    """Public counts for everyone signed in; private counts over the caller's projects;
    totals and storage for system admins only (as Harbor does)."""
    rbac.require_signed_in(ctx.principal)
    visible = rbac.visible_project_filter(ctx.principal)
    with ctx.db.read() as s:
        is_public = Project.id.in_(_public_ids())
        rows = s.execute(
            select(
                is_public.label("public"),
                func.count(func.distinct(Project.id)),
                func.count(Repository.id),
            )
            .select_from(Project)
            .outerjoin(Repository, Repository.project_id == Project.id)
            .where(*([visible] if visible is not None else []))
            .group_by(is_public)
        ).all()
        counts = {bool(pub): (projects, repos) for pub, projects, repos in rows}
        result = {
            "public_project_count": counts.get(True, (0, 0))[0],
            "public_repo_count": counts.get(True, (0, 0))[1],
            "private_project_count": counts.get(False, (0, 0))[0],
            "private_repo_count": counts.get(False, (0, 0))[1],
        }
        if ctx.principal.sysadmin:
            result["total_project_count"] = (
                result["public_project_count"] + result["private_project_count"]
            )
            result["total_repo_count"] = result["public_repo_count"] + result["private_repo_count"]
            result["total_storage_consumption"] = int(
                s.scalar(select(func.coalesce(func.sum(Blob.size), 0))) or 0
            )
    return result
