"""Harbor's audit log purge (tag purge): manual runs, the schedule, history, logs, stop."""

from harbor_api.api import Page, current_context, paged
from harbor_api.api.responses import created, empty
from harbor_api.services import audit_purge


def create_purge_schedule(body):
    purge_id = audit_purge.create(current_context(), body)
    if purge_id is None:
        return created("/api/v2.0/system/purgeaudit/schedule")
    return created(f"/api/v2.0/system/purgeaudit/{purge_id}")


def update_purge_schedule(body):
    audit_purge.update_schedule(current_context(), body)
    return empty(200)


def get_purge_schedule():
    return audit_purge.get_schedule(current_context()), 200


def get_purge_history(page=None, page_size=None):
    pg = Page.of(page, page_size)
    items, total = audit_purge.history(current_context(), pg.offset, pg.page_size)
    return paged(items, total, pg)


def get_purge_job(purge_id):
    return audit_purge.get_job(current_context(), purge_id), 200


def get_purge_job_log(purge_id):
    return audit_purge.job_log(current_context(), purge_id), 200, {"Content-Type": "text/plain"}


def stop_purge(purge_id):
    audit_purge.stop(current_context(), purge_id)
    return empty(200)
