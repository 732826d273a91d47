"""Users: ``/users``."""

from harbor_api.api import Page, current_context, paged
from harbor_api.api.responses import created, empty
from harbor_api.services import users


def list_users(q=None, sort=None, page=None, page_size=None):
    items, total = users.list_users(current_context(), q, sort, Page.of(page, page_size))
    return paged(items, total, Page.of(page, page_size))


def create_user(body):
    user_id = users.create_user(current_context(), body)
    return created(f"/api/v2.0/users/{user_id}")


def search_users(username, page=None, page_size=None):
    pg = Page.of(page, page_size)
    items, total = users.search(current_context(), username, pg)
    return paged(items, total, pg)


def get_current_user_info():
    return users.current(current_context()), 200


def get_user(user_id):
    return users.get(current_context(), user_id), 200


def update_user_profile(user_id, body):
    users.update_profile(current_context(), user_id, body)
    return empty()


def delete_user(user_id):
    users.delete_user(current_context(), user_id)
    return empty()


def update_user_password(user_id, body):
    users.change_password(
        current_context(), user_id, body.get("old_password"), body.get("new_password")
    )
    return empty()


def set_user_sys_admin(user_id, body):
    users.set_sysadmin(current_context(), user_id, bool(body.get("sysadmin_flag")))
    return empty()
