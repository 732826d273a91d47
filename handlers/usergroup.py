"""User groups: ``/usergroups``."""

from harbor_api.api import Page, current_context, paged
from harbor_api.api.responses import created, empty
from harbor_api.services import usergroups


def list_user_groups(page=None, page_size=None, ldap_group_dn=None, group_name=None):
    pg = Page.of(page, page_size)
    items, total = usergroups.list_groups(current_context(), pg, ldap_group_dn, group_name)
    return paged(items, total, pg)


def create_user_group(body):
    group_id = usergroups.create(current_context(), body)
    return created(f"/api/v2.0/usergroups/{group_id}")


def search_user_groups(groupname, page=None, page_size=None):
    pg = Page.of(page, page_size)
    items, total = usergroups.search(current_context(), groupname, pg)
    return paged(items, total, pg)


def get_user_group(group_id):
    return usergroups.get(current_context(), group_id), 200


def update_user_group(group_id, body):
    usergroups.update(current_context(), group_id, body)
    return empty()


def delete_user_group(group_id):
    usergroups.delete_group(current_context(), group_id)
    return empty()
