"""Immutable tag rules: ``/projects/{project_name_or_id}/immutabletagrules``."""

from connexion import request

from handlers.project import project_ref
from harbor_api.api import Page, current_context, paged
from harbor_api.api.responses import created, empty
from harbor_api.services import immutable_rules


def list_immu_rules(project_name_or_id, page=None, page_size=None, q=None, sort=None):
    pg = Page.of(page, page_size)
    items, total = immutable_rules.list_rules(
        current_context(),
        project_ref(project_name_or_id),
        q=q,
        sort=sort,
        offset=pg.offset,
        limit=pg.page_size,
    )
    return paged(items, total, pg)


def create_immu_rule(project_name_or_id, body):
    rule_id = immutable_rules.create(current_context(), project_ref(project_name_or_id), body)
    return created(f"{request.url.path.rstrip('/')}/{rule_id}")


def update_immu_rule(project_name_or_id, immutable_rule_id, body):
    immutable_rules.update(
        current_context(), project_ref(project_name_or_id), immutable_rule_id, body
    )
    return empty()


def delete_immu_rule(project_name_or_id, immutable_rule_id):
    immutable_rules.delete(current_context(), project_ref(project_name_or_id), immutable_rule_id)
    return empty()
