"""Harbor's job service monitor (system admins)."""

from harbor_api.api import current_context
from harbor_api.jobs import monitor


def get_worker_pools():
    return monitor.list_pools(current_context()), 200


def get_workers(pool_id):
    return monitor.list_workers(current_context(), pool_id), 200


def stop_running_job(job_id, body=None):
    monitor.stop_job(current_context(), job_id, (body or {}).get("action"))
    return None, 200


def action_get_job_log(job_id):
    return monitor.job_log(current_context(), job_id), 200, {"Content-Type": "text/plain"}


def list_job_queues():
    return monitor.list_queues(current_context()), 200


def action_pending_jobs(job_type, body):
    monitor.act_on_queue(current_context(), job_type, body.get("action"))
    return None, 200
