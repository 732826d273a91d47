"""System configuration: typed keys with defaults, stored as JSON in ``configurations``.

Secrets (``ldap_search_password``) are write-only: stored, never returned.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from harbor_api.db.models import ConfigEntry
from harbor_api.db.session import Database

DEFAULTS: dict[str, Any] = {
    "auth_mode": "db_auth",
    "self_registration": False,
    "project_creation_restriction": "everyone",
    "token_expiration": 30,
    "robot_token_duration": 30,
    "robot_name_prefix": "robot$",
    "read_only": False,
    "audit_log_retention_hours": 0,
    "ldap_url": "",
    "ldap_search_dn": "",
    "ldap_search_password": "",
    "ldap_base_dn": "",
    "ldap_filter": "",
    "ldap_uid": "uid",
    "ldap_scope": 2,
    "ldap_timeout": 5,
    "ldap_verify_cert": True,
    "ldap_group_base_dn": "",
    "ldap_group_search_filter": "",
    "ldap_group_attribute_name": "cn",
    "ldap_group_search_scope": 2,
    "ldap_group_admin_dn": "",
    "ldap_group_membership_attribute": "memberof",
}
SECRET_KEYS = frozenset({"ldap_search_password"})


def effective(db: Database) -> dict[str, Any]:
    """Every key with its stored value or default (secrets included: internal use only)."""
    values = dict(DEFAULTS)
    with db.read() as s:
        for row in s.scalars(select(ConfigEntry)):
            if row.key in DEFAULTS:
                values[row.key] = json.loads(row.value)
    return values


def store(db: Database, changes: dict[str, Any]) -> None:
    with db.transaction() as s:
        for key, value in changes.items():
            row = s.get(ConfigEntry, key)
            if row is None:
                s.add(ConfigEntry(key=key, value=json.dumps(value)))
            else:
                row.value = json.dumps(value)
