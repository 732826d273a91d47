"""Find projects, repositories and artifacts by the names the API uses, with RBAC checks.

A project is found by its name exactly (names are lowercase by grammar; nothing is folded),
or through :class:`ProjectNameOrId` where an API path may hold either. Where only its
identity is needed, the answer is :class:`~harbor_api.services.oci.repositories.ProjectRef`
(id, name), the one resolved-project type, from one Core statement: ``project_by_name`` for
one name, :func:`project_refs` for several; where the API needs the row, the ORM entity.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from harbor_api.auth import rbac
from harbor_api.auth.principal import Principal
from harbor_api.db.models import Artifact, Project, Repository, Tag
from harbor_api.errors import BadRequestError, ForbiddenError, NotFoundError
from harbor_api.registry.digest import is_digest
from harbor_api.registry.names import is_repository_name, is_tag
from harbor_api.services.oci.repositories import ProjectRef
from harbor_api.services.query import INT32_MAX


def _projects():
    # metadata is not needed to authorise (rbac reads "public" itself): skip its eager load,
    # so that finding a project costs one query whether it exists or not
    return select(Project).options(lazyload(Project.metadata_entries))


def project_refs(session: Session, names: set[str]) -> dict[str, ProjectRef]:
    """name → :class:`ProjectRef` of the projects among ``names``, in one statement (the
    many-name form of ``services.oci.repositories.project_by_name``)."""
    if not names:
        return {}
    rows = session.connection().execute(
        select(Project.id, Project.name).where(Project.name.in_(names))
    )
    return {row.name: ProjectRef(*row) for row in rows}


def authorized_project(
    session: Session, principal: Principal, name: str, resource: str, action: str
) -> Project:
    """The project, after checking the principal may ``action`` on ``resource`` in it.

    A missing project and an invisible one both read as the same 404 after the same work
    (no existence leak, by body or by time)."""
    project = session.scalar(_projects().where(Project.name == name))
    return rbac.require_found(session, principal, project, name, resource, action)


@dataclass(frozen=True)
class ProjectNameOrId:
    """How an API path names a project (``{project_name_or_id}``): digits are an id unless the
    caller sent ``X-Is-Resource-Name: true``; anything else (and an id beyond int32, which no
    project has) is a name. Not a project: :class:`~harbor_api.services.oci.repositories.
    ProjectRef` is the resolved one."""

    value: str
    is_name: bool = False

    def where(self):
        if (
            not self.is_name
            and self.value.isascii()
            and self.value.isdigit()
            and int(self.value) <= INT32_MAX
        ):
            return Project.id == int(self.value)
        return Project.name == self.value


def authorized_project_ref(
    session: Session,
    principal: Principal,
    ref: ProjectNameOrId,
    resource: str = "project",
    action: str = "read",
) -> Project:
    """:func:`authorized_project` for a project named by name or id in an API path."""
    project = session.scalar(_projects().where(ref.where()))
    return rbac.require_found(session, principal, project, ref.value, resource, action)


def authorized_project_id(
    session: Session, principal: Principal, project_id: int, resource: str, action: str
) -> Project:
    """:func:`authorized_project` for a project named by its id (``?project_id=``...)."""
    # an id no project can have is still looked up (as -1): the same query either way
    lookup_id = project_id if 0 < project_id <= INT32_MAX else -1
    project = session.scalar(_projects().where(Project.id == lookup_id))
    return rbac.require_found(session, principal, project, str(project_id), resource, action)


def refuse_proxy_content(project: Project, operation: str) -> None:
    """A proxy-cache project holds what its upstream sent: as a push there (403 DENIED on
    ``/v2``), an API write of content (a copy in, a new tag) is refused with 403."""
    if project.registry_id is not None:
        raise ForbiddenError(f"can not {operation} in a proxy cache project: {project.name}")


def full_repository_name(project_name: str, repository_name: str) -> str:
    """``a%2Fb`` (what is left of Harbor's double encoding after routing) → ``project/a/b``."""
    path = unquote(repository_name)
    full = f"{project_name}/{path}"
    if not is_repository_name(full):
        raise BadRequestError(
            f"invalid repository name {path!r}: components are lowercase "
            "letters and digits joined by '.', '_', '__' or '-'"
        )
    return full


def repository(session: Session, project: Project, repository_name: str) -> Repository:
    full = full_repository_name(project.name, repository_name)
    repo = session.scalar(
        select(Repository).where(Repository.name == full, Repository.project_id == project.id)
    )
    if repo is None:
        raise NotFoundError(f"repository {full} not found")
    return repo


def artifact(session: Session, repo: Repository, reference: str) -> Artifact:
    """By digest (``sha256:…``) or by tag name."""
    if is_digest(reference):
        found = session.scalar(
            select(Artifact).where(Artifact.repository_id == repo.id, Artifact.digest == reference)
        )
    elif is_tag(reference):
        found = session.scalar(
            select(Artifact)
            .join(Tag, Tag.artifact_id == Artifact.id)
            .where(Tag.repository_id == repo.id, Tag.name == reference)
        )
    else:
        raise BadRequestError(f"invalid reference {reference!r}: expected a tag or a digest")
    if found is None:
        separator = "@" if is_digest(reference) else ":"
        raise NotFoundError(f"artifact {repo.name}{separator}{reference} not found")
    return found


def authorized_repository(
    session: Session,
    principal: Principal,
    project_name: str,
    repository_name: str,
    resource: str,
    action: str,
) -> tuple[Project, Repository]:
    """The project and the repository in one query, after the RBAC check on the project."""
    full = full_repository_name(project_name, repository_name)
    row = session.execute(
        select(Project, Repository)
        .options(lazyload(Project.metadata_entries))
        .outerjoin(Repository, (Repository.project_id == Project.id) & (Repository.name == full))
        .where(Project.name == project_name)
    ).first()
    project, repo = row if row is not None else (None, None)
    rbac.require_found(session, principal, project, project_name, resource, action)
    if repo is None:
        raise NotFoundError(f"repository {full} not found")
    return project, repo
