"""Replication policies and executions (Harbor's ``replication`` tag); the adapter listings
share the ``registry`` tag and live in :mod:`handlers.registry`."""

from harbor_api.api import Page, current_context, paged
from harbor_api.api.responses import empty
from harbor_api.services.replication import executions, policies


def list_replication_policies(q=None, sort=None, page=None, page_size=None, name=None):
    pg = Page.of(page, page_size)
    items, total = policies.list_policies(
        current_context(), q=q, sort=sort, name=name, offset=pg.offset, limit=pg.page_size
    )
    return paged(items, total, pg)


def create_replication_policy(body):
    policy_id = policies.create_policy(current_context(), body)
    return empty(201, {"Location": f"/api/v2.0/replication/policies/{policy_id}"})


def get_replication_policy(id):  # noqa: A002 - Harbor's parameter name
    return policies.get_policy(current_context(), id), 200


def update_replication_policy(id, body):  # noqa: A002
    policies.update_policy(current_context(), id, body)
    return empty(200)


def delete_replication_policy(id):  # noqa: A002
    policies.delete_policy(current_context(), id)
    return empty(200)


def list_replication_executions(
    policy_id=None, status=None, trigger=None, sort=None, page=None, page_size=None
):
    pg = Page.of(page, page_size)
    items, total = executions.list_executions(
        current_context(),
        policy_id=policy_id,
        status=status,
        trigger=trigger,
        sort=sort,
        offset=pg.offset,
        limit=pg.page_size,
    )
    return paged(items, total, pg)


def start_replication(body):
    execution_id = executions.start_execution(current_context(), body)
    return empty(201, {"Location": f"/api/v2.0/replication/executions/{execution_id}"})


def get_replication_execution(id):  # noqa: A002
    return executions.get_execution(current_context(), id), 200


def stop_replication(id):  # noqa: A002
    executions.stop_execution(current_context(), id)
    return empty(200)


def retry_replication_execution(id):  # noqa: A002
    executions.retry_execution(current_context(), id)
    return empty(200)


def list_replication_tasks(
    id,
    status=None,
    resource_type=None,
    sort=None,
    page=None,  # noqa: A002
    page_size=None,
):
    pg = Page.of(page, page_size)
    items, total = executions.list_tasks(
        current_context(),
        id,
        status=status,
        resource_type=resource_type,
        sort=sort,
        offset=pg.offset,
        limit=pg.page_size,
    )
    return paged(items, total, pg)


def get_replication_log(id, task_id):  # noqa: A002
    text = executions.task_log(current_context(), id, task_id)
    return text, 200, {"Content-Type": "text/plain"}
