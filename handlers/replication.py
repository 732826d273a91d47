"""Replication policies and executions (Harbor's ``replication`` tag); the adapter listings
share the ``registry`` tag and live in :mod:`handlers.registry`."""

from harbor_api.api import Page, current_context, paged
from harbor_api.api.responses import empty
from harbor_api.services.replication import policies


def list_replication_policies(q=None, sort=None, page=None, page_size=None, name=None):
    pg = Page.of(page, page_size)
    items, total = policies.list_policies(current_context(), q=q, sort=sort, name=name,
                                          offset=pg.offset, limit=pg.page_size)
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
