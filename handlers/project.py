"""Projects: ``/projects``."""

from connexion import request

from harbor_api.api import Page, current_context, paged
from harbor_api.api.responses import created, empty
from harbor_api.services import projects
from harbor_api.services.lookup import ProjectNameOrId


def _flag(header: str) -> bool:
    return (request.headers.get(header) or "").strip().lower() == "true"


def project_ref(project_name_or_id: str) -> ProjectNameOrId:
    """Honours ``X-Is-Resource-Name: true``; otherwise digits are an id, anything else a name."""
    return ProjectNameOrId(project_name_or_id, _flag("X-Is-Resource-Name"))


def list_projects(
    q=None,
    page=None,
    page_size=None,
    sort=None,
    name=None,
    public=None,
    owner=None,
    with_detail=True,
):
    pg = Page.of(page, page_size)
    items, total = projects.list_projects(
        current_context(), pg, q=q, sort=sort, name=name, public=public, owner=owner
    )
    return paged(items, total, pg)


def head_project(project_name):
    projects.check_exists(current_context(), project_name)
    return empty()


def create_project(body):
    project = projects.create(current_context(), body)
    location = project.name if _flag("X-Resource-Name-In-Location") else project.id
    return created(f"/api/v2.0/projects/{location}")


def get_project(project_name_or_id):
    return projects.get(current_context(), project_ref(project_name_or_id)), 200


def update_project(project_name_or_id, body):
    projects.update(current_context(), project_ref(project_name_or_id), body)
    return empty()


def delete_project(project_name_or_id):
    projects.remove(current_context(), project_ref(project_name_or_id))
    return empty()


def get_project_summary(project_name_or_id):
    return projects.summary(current_context(), project_ref(project_name_or_id)), 200
