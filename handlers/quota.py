"""Project storage quotas: ``/quotas``."""

from harbor_api.api import Page, current_context, paged
from harbor_api.api.responses import empty
from harbor_api.services import quotas


def list_quotas(reference=None, reference_id=None, sort=None, page=None, page_size=None):
    pg = Page.of(page, page_size)
    items, total = quotas.list_quotas(
        current_context(),
        reference=reference,
        reference_id=reference_id,
        sort=sort,
        offset=pg.offset,
        limit=pg.page_size,
    )
    return paged(items, total, pg)


def get_quota(id):  # noqa: A002 - Harbor's parameter name
    return quotas.get_quota(current_context(), id), 200


def update_quota(id, body):  # noqa: A002
    quotas.update_quota(current_context(), id, body)
    return empty(200)
