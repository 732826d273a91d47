"""Project members: ``/projects/{project_name_or_id}/members``."""

from connexion import request

from handlers.project import project_ref
from harbor_api.api import Page, current_context, paged
from harbor_api.api.responses import created, empty
from harbor_api.services import members


def list_project_members(project_name_or_id, page=None, page_size=None, entityname=None):
    pg = Page.of(page, page_size)
    items, total = members.list_members(
        current_context(), project_ref(project_name_or_id), pg, entityname
    )
    return paged(items, total, pg)


def create_project_member(project_name_or_id, body):
    member_id = members.create(current_context(), project_ref(project_name_or_id), body)
    return created(f"{request.url.path.rstrip('/')}/{member_id}")


def get_project_member(project_name_or_id, mid):
    return members.get(current_context(), project_ref(project_name_or_id), mid), 200


def update_project_member(project_name_or_id, mid, body):
    members.update(current_context(), project_ref(project_name_or_id), mid, body.get("role_id"))
    return empty()


def delete_project_member(project_name_or_id, mid):
    members.remove(current_context(), project_ref(project_name_or_id), mid)
    return empty()
