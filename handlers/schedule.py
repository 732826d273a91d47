"""Schedules of the job service (system admins)."""

from harbor_api.api import Page, current_context, paged
from harbor_api.jobs import monitor


def list_schedules(page=None, page_size=None):
    pg = Page.of(page, page_size)
    items, total = monitor.list_schedules(current_context(), pg.offset, pg.page_size)
    return paged(items, total, pg)


def get_schedule_paused(job_type):
    return monitor.schedule_paused(current_context(), job_type), 200
