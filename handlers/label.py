"""Labels: global and project scoped."""

from harbor_api.api import Page, current_context, paged
from harbor_api.api.responses import empty
from harbor_api.services import labels


def list_labels(
    q=None, sort=None, page=None, page_size=None, name=None, scope=None, project_id=None
):
    pg = Page.of(page, page_size)
    items, total = labels.list_labels(
        current_context(),
        name=name,
        scope=scope,
        project_id=project_id,
        q=q,
        sort=sort,
        offset=pg.offset,
        limit=pg.page_size,
    )
    return paged(items, total, pg)


def create_label(body):
    label_id = labels.create_label(current_context(), body)
    return empty(201, {"Location": f"/api/v2.0/labels/{label_id}"})


def get_by_id(label_id):
    return labels.get_label(current_context(), label_id), 200


def update_label(label_id, body):
    labels.update_label(current_context(), label_id, body)
    return empty(200)


def delete_label(label_id):
    labels.delete_label(current_context(), label_id)
    return empty(200)
