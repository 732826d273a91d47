"""Repositories: list (all or one project's), get, update the description, delete."""

from harbor_api.api import Page, current_context, paged
from harbor_api.api.responses import empty
from harbor_api.services import repositories


def list_all_repositories(q=None, sort=None, page=None, page_size=None):
    pg = Page.of(page, page_size)
    items, total = repositories.list_repositories(
        current_context(), None, q=q, sort=sort, offset=pg.offset, limit=pg.page_size
    )
    return paged(items, total, pg)


def list_repositories(project_name, q=None, sort=None, page=None, page_size=None):
    pg = Page.of(page, page_size)
    items, total = repositories.list_repositories(
        current_context(), project_name, q=q, sort=sort, offset=pg.offset, limit=pg.page_size
    )
    return paged(items, total, pg)


def get_repository(project_name, repository_name):
    return repositories.get_repository(current_context(), project_name, repository_name), 200


def update_repository(project_name, repository_name, body):
    repositories.update_repository(current_context(), project_name, repository_name, body)
    return empty(200)


def delete_repository(project_name, repository_name):
    repositories.delete_repository(current_context(), project_name, repository_name)
    return empty(200)
