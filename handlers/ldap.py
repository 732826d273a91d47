"""LDAP tools for system admins: ``/ldap``."""

from harbor_api.api import current_context
from harbor_api.api.responses import empty
from harbor_api.services import ldap_admin


def ping_ldap(body=None):
    return ldap_admin.ping(current_context(), body), 200


def search_ldap_user(username=None):
    return ldap_admin.search_users(current_context(), username), 200


def import_ldap_user(body):
    failed = ldap_admin.import_users(current_context(), body.get("ldap_uid_list") or [])
    if failed:
        return failed, 404
    return empty()


def search_ldap_group(groupname=None, groupdn=None):
    return ldap_admin.search_groups(current_context(), groupname, groupdn), 200
