"""Harbor's garbage collection (tag gc): manual runs, the schedule, history, logs, stop."""

from harbor_api.api import Page, current_context, paged
from harbor_api.api.responses import created, empty
from harbor_api.services import garbage_collection


def create_gcschedule(body):
    gc_id = garbage_collection.create(current_context(), body)
    if gc_id is None:
        return created("/api/v2.0/system/gc/schedule")
    return created(f"/api/v2.0/system/gc/{gc_id}")


def update_gcschedule(body):
    garbage_collection.update_schedule(current_context(), body)
    return empty(200)


def get_gcschedule():
    return garbage_collection.get_schedule(current_context()), 200


def get_gchistory(sort=None, page=None, page_size=None):
    pg = Page.of(page, page_size)
    items, total = garbage_collection.history(current_context(), pg.offset, pg.page_size, sort)
    return paged(items, total, pg)


def get_gc(gc_id):
    return garbage_collection.get_job(current_context(), gc_id), 200


def get_gclog(gc_id):
    return garbage_collection.job_log(current_context(), gc_id), 200, {"Content-Type": "text/plain"}


def stop_gc(gc_id):
    garbage_collection.stop(current_context(), gc_id)
    return empty(200)
