"""Webhook policies of a project, their executions, tasks and logs (Harbor's ``webhook``
tag)."""

from connexion import request

from handlers.project import project_ref
from harbor_api.api import Page, current_context, paged
from harbor_api.api.responses import created, empty
from harbor_api.services.webhooks import executions, policies


def list_webhook_policies_of_project(
    project_name_or_id, sort=None, q=None, page=None, page_size=None
):
    pg = Page.of(page, page_size)
    items, total = policies.list_policies(
        current_context(),
        project_ref(project_name_or_id),
        q=q,
        sort=sort,
        offset=pg.offset,
        limit=pg.page_size,
    )
    return paged(items, total, pg)


def create_webhook_policy_of_project(project_name_or_id, body):
    policy_id = policies.create_policy(current_context(), project_ref(project_name_or_id), body)
    return created(f"{request.url.path.rstrip('/')}/{policy_id}")


def get_webhook_policy_of_project(project_name_or_id, webhook_policy_id):
    ref = project_ref(project_name_or_id)
    return policies.get_policy(current_context(), ref, webhook_policy_id), 200


def update_webhook_policy_of_project(project_name_or_id, webhook_policy_id, body):
    ref = project_ref(project_name_or_id)
    policies.update_policy(current_context(), ref, webhook_policy_id, body)
    return empty()


def delete_webhook_policy_of_project(project_name_or_id, webhook_policy_id):
    policies.delete_policy(current_context(), project_ref(project_name_or_id), webhook_policy_id)
    return empty()


def list_executions_of_webhook_policy(
    project_name_or_id, webhook_policy_id, page=None, page_size=None, q=None, sort=None
):
    pg = Page.of(page, page_size)
    items, total = executions.list_executions(
        current_context(),
        project_ref(project_name_or_id),
        webhook_policy_id,
        q=q,
        sort=sort,
        offset=pg.offset,
        limit=pg.page_size,
    )
    return paged(items, total, pg)


def list_tasks_of_webhook_execution(
    project_name_or_id,
    webhook_policy_id,
    execution_id,
    page=None,
    page_size=None,
    q=None,
    sort=None,
):
    pg = Page.of(page, page_size)
    items, total = executions.list_tasks(
        current_context(),
        project_ref(project_name_or_id),
        webhook_policy_id,
        execution_id,
        q=q,
        sort=sort,
        offset=pg.offset,
        limit=pg.page_size,
    )
    return paged(items, total, pg)


def get_logs_of_webhook_task(project_name_or_id, webhook_policy_id, execution_id, task_id):
    text = executions.task_log(
        current_context(), project_ref(project_name_or_id), webhook_policy_id, execution_id, task_id
    )
    return text, 200, {"Content-Type": "text/plain"}


def last_trigger(project_name_or_id):
    return policies.last_triggers(current_context(), project_ref(project_name_or_id)), 200


def get_supported_event_types(project_name_or_id):
    return policies.supported_event_types(current_context(), project_ref(project_name_or_id)), 200
