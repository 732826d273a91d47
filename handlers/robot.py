"""``/robots``: robot accounts (system and project level)."""

from __future__ import annotations

from starlette.responses import Response

from harbor_api.api import NO_STORE, Page, current_context, paged
from harbor_api.services import robots


def _empty(status: int = 200) -> Response:
    """Harbor answers these writes with no body (and so no JSON content type)."""
    return Response(status_code=status)


def list_robot(
    q: str | None = None,
    sort: str | None = None,
    page: int | None = None,
    page_size: int | None = None,
):
    paging = Page.of(page, page_size)
    items, total = robots.list_robots(current_context(), q, sort, paging)
    return paged(items, total, paging)


def create_robot(body: dict):
    ctx = current_context()
    created, _secret = robots.create(ctx, body)
    location = f"/api/v2.0/robots/{created['id']}"
    return created, 201, {"Location": location, **NO_STORE}


def get_robot_by_id(robot_id: int):
    return robots.get(current_context(), robot_id), 200


def update_robot(robot_id: int, body: dict):
    robots.update(current_context(), robot_id, body)
    return _empty()


def delete_robot(robot_id: int):
    robots.delete(current_context(), robot_id)
    return _empty()


def refresh_sec(robot_id: int, body: dict | None = None):
    return {"secret": robots.refresh_secret(current_context(), robot_id, body)}, 200, NO_STORE
