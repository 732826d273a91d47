"""Tags of an artifact: list, create (OCI tag grammar), delete; every change audited."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from harbor_api.db.base import utcnow
from harbor_api.db.models import Tag
from harbor_api.errors import BadRequestError, ConflictError, NotFoundError
from harbor_api.registry.names import is_tag
from harbor_api.services import audit, immutability
from harbor_api.services.artifact_view import render_tag
from harbor_api.services.context import RequestContext
from harbor_api.services.lookup import artifact, authorized_repository, refuse_proxy_content
from harbor_api.services.query import condition, order_by, page_and_total, parse_q

_SORT = {"name": Tag.name, "push_time": Tag.push_time, "pull_time": Tag.pull_time, "id": Tag.id}


def list_tags(
    ctx: RequestContext,
    project_name: str,
    repository_name: str,
    reference: str,
    *,
    q: str | None,
    sort: str | None,
    offset: int,
    limit: int,
    with_immutable_status: bool = False,
) -> tuple[list[dict], int]:
    terms = parse_q(q, {"name"})
    order = order_by(sort, _SORT, [Tag.push_time.desc(), Tag.id.desc()])
    with ctx.db.read() as s:
        project, repo = authorized_repository(
            s, ctx.principal, project_name, repository_name, "tag", "list"
        )
        found = artifact(s, repo, reference)
        where = [Tag.artifact_id == found.id]
        if "name" in terms:
            where.append(condition(Tag.name, terms["name"]))
        rows, total = page_and_total(
            s,
            select(Tag).where(*where).order_by(*order),
            select(func.count()).select_from(Tag).where(*where),
            offset,
            limit,
        )
        rules = immutability.enabled_rules(s, project.id) if with_immutable_status else []
        return [
            render_tag(t, immutable=immutability.is_protected(rules, repo.name, t.name))
            for t in rows
        ], total


def create_tag(
    ctx: RequestContext, project_name: str, repository_name: str, reference: str, name: str | None
) -> int:
    name = (name or "").strip()
    if not is_tag(name):
        raise BadRequestError(
            f"invalid tag name {name[:200]!r}: expected [a-zA-Z0-9_][a-zA-Z0-9._-]{{0,127}}"
        )
    with ctx.db.transaction() as s:
        project, repo = authorized_repository(
            s, ctx.principal, project_name, repository_name, "tag", "create"
        )
        refuse_proxy_content(project, "add a tag")
        found = artifact(s, repo, reference)
        if s.scalar(select(Tag.id).where(Tag.repository_id == repo.id, Tag.name == name)):
            raise ConflictError(f"tag {name} already exists in {repo.name}")
        tag = Tag(repository_id=repo.id, artifact_id=found.id, name=name, push_time=utcnow())
        s.add(tag)
        try:
            s.flush()
        except IntegrityError:  # a concurrent push or create took the name first
            raise ConflictError(f"tag {name} already exists in {repo.name}") from None
        audit.record(s, ctx.principal, "create", "tag", f"{repo.name}:{name}", project.id)
        return tag.id


def delete_tag(
    ctx: RequestContext, project_name: str, repository_name: str, reference: str, name: str
) -> None:
    with ctx.db.transaction() as s:
        project, repo = authorized_repository(
            s, ctx.principal, project_name, repository_name, "tag", "delete"
        )
        found = artifact(s, repo, reference)
        tag = s.scalar(
            select(Tag).where(
                Tag.repository_id == repo.id, Tag.name == name, Tag.artifact_id == found.id
            )
        )
        if tag is None:
            raise NotFoundError(f"tag {name} attached to artifact {found.id} not found")
        immutability.check_tag_delete(s, repo.id, name)
        audit.record(s, ctx.principal, "delete", "tag", f"{repo.name}:{name}", project.id)
        s.delete(tag)
