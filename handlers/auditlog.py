"""The audit log: the whole system's (system admin) and one project's."""

from harbor_api.api import Page, current_context, paged
from harbor_api.services import audit_chain, audit_logs


def list_audit_logs(q=None, sort=None, page=None, page_size=None):
    pg = Page.of(page, page_size)
    items, total = audit_logs.list_logs(
        current_context(), None, q=q, sort=sort, offset=pg.offset, limit=pg.page_size
    )
    return paged(items, total, pg)


def get_logs(project_name, q=None, sort=None, page=None, page_size=None):
    pg = Page.of(page, page_size)
    items, total = audit_logs.list_logs(
        current_context(), project_name, q=q, sort=sort, offset=pg.offset, limit=pg.page_size
    )
    return paged(items, total, pg)


def verify_audit_logs():
    return audit_chain.verify(current_context()), 200
