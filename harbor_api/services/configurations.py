"""System configuration: typed keys with defaults, stored as JSON in ``configurations``.

Secrets (``ldap_search_password``) are write-only: stored, never returned.
"""

from __future__ import annotations

import json
import threading
import time
import weakref
from typing import Any

from sqlalchemy import select

from harbor_api.db.models import ConfigEntry, User
from harbor_api.db.session import Database
from harbor_api.errors import BadRequestError
from harbor_api.services import audit

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


# Configuration is read on hot paths (every token issued, every login), so each process keeps
# what it read for a moment. A change made through this process is seen at once; a change made
# by another worker or node is seen within CACHE_SECONDS.
CACHE_SECONDS = 1.0
_cache: weakref.WeakKeyDictionary[Database, tuple[float, dict[str, Any]]] = \
    weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def effective(db: Database) -> dict[str, Any]:
    """Every key with its stored value or default (secrets included: internal use only)."""
    now = time.monotonic()
    with _cache_lock:
        cached = _cache.get(db)
    if cached is not None and cached[0] > now:
        return dict(cached[1])
    values = dict(DEFAULTS)
    with db.read() as s:
        for row in s.scalars(select(ConfigEntry)):
            if row.key in DEFAULTS:
                values[row.key] = json.loads(row.value)
    with _cache_lock:
        _cache[db] = (now + CACHE_SECONDS, values)
    return dict(values)


def forget_cached(db: Database) -> None:
    with _cache_lock:
        _cache.pop(db, None)


def _write(session, changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        row = session.get(ConfigEntry, key)
        if row is None:
            session.add(ConfigEntry(key=key, value=json.dumps(value)))
        else:
            row.value = json.dumps(value)


def store(db: Database, changes: dict[str, Any]) -> None:
    with db.transaction() as s:
        _write(s, changes)
    forget_cached(db)


# --- the management API -------------------------------------------------------------------

CHOICES: dict[str, tuple[str, ...]] = {
    "auth_mode": ("db_auth", "ldap_auth"),
    "project_creation_restriction": ("adminonly", "everyone"),
}
RANGES: dict[str, tuple[int, int | None]] = {
    "token_expiration": (1, None), "robot_token_duration": (1, None), "ldap_scope": (0, 2),
    "ldap_group_search_scope": (0, 2), "ldap_timeout": (1, None),
    "audit_log_retention_hours": (0, None),
}


def for_display(db: Database) -> dict[str, dict[str, Any]]:
    """Harbor's ConfigurationsResponse: ``{key: {"value": v, "editable": true}}``, no secrets."""
    return {key: {"value": value, "editable": True}
            for key, value in effective(db).items() if key not in SECRET_KEYS}


def validate(changes: dict[str, Any]) -> dict[str, Any]:
    """Check every key is known and every value has the right type and range."""
    unknown = sorted(set(changes) - set(DEFAULTS))
    if unknown:
        raise BadRequestError(f"unknown configuration key(s): {', '.join(unknown)}")
    for key, value in changes.items():
        expected = type(DEFAULTS[key])
        if type(value) is not expected:
            raise BadRequestError(f"configuration {key} must be a {expected.__name__}")
        if key in CHOICES and value not in CHOICES[key]:
            raise BadRequestError(f"configuration {key} must be one of {', '.join(CHOICES[key])}")
        if key in RANGES:
            low, high = RANGES[key]
            if value < low or (high is not None and value > high):
                raise BadRequestError(f"configuration {key} is out of range")
        if key == "ldap_url" and value and not value.lower().startswith(("ldap://", "ldaps://")):
            raise BadRequestError("ldap_url must start with ldap:// or ldaps://")
        if key == "robot_name_prefix" and not value:
            raise BadRequestError("robot_name_prefix must not be empty")
    return changes


def update(db: Database, principal, changes: dict[str, Any]) -> None:
    """Validate and store ``changes`` with an audit record, in one transaction.

    Switching ``auth_mode`` is refused once users other than ``admin`` exist (as Harbor does).
    """
    validate(changes)
    current = effective(db)
    with db.transaction() as s:
        if "auth_mode" in changes and changes["auth_mode"] != current["auth_mode"]:
            others = s.scalar(select(User.id).where(User.username != "admin").limit(1))
            if others is not None:
                raise BadRequestError("auth_mode cannot be changed once users other than "
                                      "admin exist")
        _write(s, changes)
        if changes:
            audit.record(s, principal, "update", "configuration", ",".join(sorted(changes)))
    forget_cached(db)
