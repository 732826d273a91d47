"""Tag retention policies, executions, tasks and logs (Harbor's ``Retention`` tag)."""

from harbor_api.api import Page, current_context, paged
from harbor_api.api.responses import empty
from harbor_api.services.retention import executions, policies, rules


def get_rentenition_metadata():
    return rules.metadata(), 200


def create_retention(body):
    policy_id = policies.create_policy(current_context(), body)
    return empty(201, {"Location": f"/api/v2.0/retentions/{policy_id}"})


def get_retention(id):  # noqa: A002 - Harbor's parameter name
    return policies.get_policy(current_context(), id), 200


def update_retention(id, body):  # noqa: A002
    policies.update_policy(current_context(), id, body)
    return empty(200)


def delete_retention(id):  # noqa: A002
    policies.delete_policy(current_context(), id)
    return empty(200)


def trigger_retention_execution(id, body):  # noqa: A002
    execution_id = executions.trigger_execution(current_context(), id, body)
    return empty(201, {"Location": f"/api/v2.0/retentions/{id}/executions/{execution_id}"})


def list_retention_executions(id, page=None, page_size=None):  # noqa: A002
    pg = Page.of(page, page_size)
    items, total = executions.list_executions(current_context(), id, pg.offset, pg.page_size)
    return paged(items, total, pg)


def operate_retention_execution(id, eid, body):  # noqa: A002
    executions.operate_execution(current_context(), id, eid, body)
    return empty(200)


def list_retention_tasks(id, eid, page=None, page_size=None):  # noqa: A002
    # strings here: harborapi sends empty ``page=``/``page_size=`` for the defaults
    pg = Page.of(int(page) if page else None, int(page_size) if page_size else None)
    items, total = executions.list_tasks(current_context(), id, eid, pg.offset, pg.page_size)
    return paged(items, total, pg)


def get_retention_task_log(id, eid, tid):  # noqa: A002
    text = executions.task_log(current_context(), id, eid, tid)
    return text, 200, {"Content-Type": "text/plain"}


def get_retention_task_log_file(id, eid, tid):  # noqa: A002
    return get_retention_task_log(id, eid, tid)
