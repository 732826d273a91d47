"""Registry endpoints and the replication adapters (Harbor's ``registry`` tag)."""

from harbor_api.api import Page, current_context, paged
from harbor_api.api.responses import empty
from harbor_api.services import registries


def list_registries(q=None, sort=None, page=None, page_size=None, name=None):
    pg = Page.of(page, page_size)
    items, total = registries.list_registries(
        current_context(), q=q, sort=sort, name=name, offset=pg.offset, limit=pg.page_size
    )
    return paged(items, total, pg)


def create_registry(body):
    registry_id = registries.create_registry(current_context(), body)
    return empty(201, {"Location": f"/api/v2.0/registries/{registry_id}"})


def get_registry(id):  # noqa: A002 - Harbor's parameter name
    return registries.get_registry(current_context(), id), 200


def update_registry(id, body):  # noqa: A002
    registries.update_registry(current_context(), id, body)
    return empty(200)


def delete_registry(id):  # noqa: A002
    registries.delete_registry(current_context(), id)
    return empty(200)


def ping_registry(body):
    registries.ping_registry(current_context(), body)
    return empty(200)


def get_registry_info(id):  # noqa: A002
    return registries.registry_info(current_context(), id), 200


def list_registry_provider_types():
    return registries.adapter_types(current_context()), 200


def list_registry_provider_infos():
    return registries.adapter_infos(current_context()), 200
