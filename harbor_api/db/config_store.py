"""The stored system configuration: every key's default and the process-wide cached read.

The lowest layer of configuration, read by ``auth`` (robot prefix, LDAP mode) and
``services`` alike; validation and the management API's view live in
:mod:`harbor_api.services.configurations`.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol, cast

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from harbor_api.db.models import ConfigEntry
from harbor_api.db.session import Database

log = logging.getLogger(__name__)

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
# The rest of Harbor's configuration schema, with Harbor's defaults: stored and returned so
# that configuration-as-code tools round-trip, but nothing here acts on them (no OIDC, UAA,
# HTTP auth proxy, quota defaults, webhooks, audit forwarding or portal banner here).
HARBOR_ONLY: dict[str, Any] = {
    "primary_auth_mode": False,
    "ldap_group_attach_parallel": False,
    "uaa_client_id": "",
    "uaa_client_secret": "",
    "uaa_endpoint": "",
    "uaa_verify_cert": False,
    "http_authproxy_endpoint": "",
    "http_authproxy_tokenreview_endpoint": "",
    "http_authproxy_admin_groups": "",
    "http_authproxy_admin_usernames": "",
    "http_authproxy_verify_cert": True,
    "http_authproxy_skip_search": False,
    "http_authproxy_server_certificate": "",
    "oidc_name": "",
    "oidc_endpoint": "",
    "oidc_client_id": "",
    "oidc_client_secret": "",
    "oidc_groups_claim": "",
    "oidc_admin_group": "",
    "oidc_group_filter": "",
    "oidc_scope": "",
    "oidc_user_claim": "",
    "oidc_verify_cert": True,
    "oidc_auto_onboard": False,
    "oidc_extra_redirect_parms": "{}",
    "oidc_logout": False,
    "notification_enable": True,
    "quota_per_project_enable": True,
    "storage_per_project": -1,
    "audit_log_forward_endpoint": "",
    "skip_audit_log_database": False,
    "scanner_skip_update_pulltime": False,
    "session_timeout": 60,
    "banner_message": "",
    "disabled_audit_log_event_types": "",
}
DEFAULTS.update(HARBOR_ONLY)

# Configuration is read on hot paths (every token issued, every login). Each process keeps
# the values it read together with the version row's value at that time; every request
# checks the version (one primary-key read) and reloads when it changed, so a change made
# through any worker or node holds from the next request on. Within one request the first
# check is reused (see ``request_scope``).
VERSION_KEY = "_version"  # not a configuration key: a token every write replaces
# a constant statement run as it is: the cheapest read SQLAlchemy offers on both databases
_VERSION = f"SELECT value FROM configurations WHERE key = '{VERSION_KEY}'"
_cache: weakref.WeakKeyDictionary[Database, tuple[str | None, dict[str, Any]]] = (
    weakref.WeakKeyDictionary()
)
_cache_lock = threading.Lock()
_request_memo: ContextVar[dict[Database, dict[str, Any]] | None] = ContextVar(
    "harbor_configuration_memo", default=None
)


# Secrets are stored encrypted (``encrypted:`` and the ciphertext) once the process has
# registered the credential cipher (``protect_secrets``, at startup); a value stored before
# that, in clear, is still read as it is and encrypted by ``encrypt_clear_secrets``.
SECRET_KEYS = frozenset({"ldap_search_password", "oidc_client_secret", "uaa_client_secret"})
_ENCRYPTED = "encrypted:"


class SecretCodec(Protocol):
    def encrypt(self, secret: str) -> str: ...

    def decrypt(self, stored: str) -> str: ...


_codecs: weakref.WeakKeyDictionary[Engine, SecretCodec] = weakref.WeakKeyDictionary()


def protect_secrets(db: Database, codec: SecretCodec) -> None:
    """Encrypt the secrets this database's configuration stores from now on with
    ``codec`` (and decrypt them on reading)."""
    _codecs[db.engine] = codec
    forget_cached(db)


def encrypt_clear_secrets(db: Database) -> None:
    """Encrypt the secrets still stored in clear (written before they were encrypted); at
    start-up, after the migrations and :func:`protect_secrets`."""
    with db.transaction() as s:
        stored = {
            row.key: json.loads(row.value)
            for row in s.scalars(select(ConfigEntry).where(ConfigEntry.key.in_(SECRET_KEYS)))
        }
        write(
            s,
            {
                key: value
                for key, value in stored.items()
                if isinstance(value, str) and value and not value.startswith(_ENCRYPTED)
            },
        )
    forget_cached(db)


def _stored(codec: SecretCodec | None, key: str, value: Any) -> Any:
    if codec is None or key not in SECRET_KEYS or not isinstance(value, str) or not value:
        return value
    return _ENCRYPTED + codec.encrypt(value)


def _read(codec: SecretCodec | None, key: str, value: Any) -> Any:
    if (
        codec is None
        or key not in SECRET_KEYS
        or not isinstance(value, str)
        or not value.startswith(_ENCRYPTED)
    ):
        return value
    try:
        return codec.decrypt(value[len(_ENCRYPTED) :])
    except Exception as exc:  # e.g. the key file was replaced: that secret is lost, not all
        log.warning("configuration %s cannot be read: %s", key, exc)
        return ""


@contextmanager
def request_scope() -> Iterator[None]:
    """One request: configuration is checked against the version once, then reused (the
    memo is a shared dict, so worker threads the request hops to see it too)."""
    token = _request_memo.set({})
    try:
        yield
    finally:
        _request_memo.reset(token)


def _current_version(db: Database) -> str | None:
    with db.engine.connect() as connection:
        return connection.exec_driver_sql(_VERSION).scalar()


def effective(db: Database) -> dict[str, Any]:
    """Every key with its stored value or default (secrets included: internal use only)."""
    memo = _request_memo.get()
    if memo is not None and (values := memo.get(db)) is not None:
        return dict(values)
    version = _current_version(db)  # first: a write after it makes the next check reload
    with _cache_lock:
        cached = _cache.get(db)
    if cached is not None and cached[0] == version:
        values = cached[1]
    else:
        values = dict(DEFAULTS)
        codec = _codecs.get(db.engine)
        with db.read() as s:
            for row in s.scalars(select(ConfigEntry)):
                if row.key in DEFAULTS:
                    values[row.key] = _read(codec, row.key, json.loads(row.value))
        with _cache_lock:
            _cache[db] = (version, values)
    if memo is not None:
        memo[db] = values
    return dict(values)


def forget_cached(db: Database) -> None:
    with _cache_lock:
        _cache.pop(db, None)
    memo = _request_memo.get()
    if memo is not None:
        memo.pop(db, None)


def write(session: Session, changes: dict[str, Any]) -> None:
    codec = _codecs.get(cast(Engine, session.get_bind()))
    for key, value in changes.items():
        value = _stored(codec, key, value)
        row = session.get(ConfigEntry, key)
        if row is None:
            session.add(ConfigEntry(key=key, value=json.dumps(value)))
        else:
            row.value = json.dumps(value)
    if changes:
        session.flush()
        _bump_version(session)


def _bump_version(session: Session) -> None:
    """A new version token in the writing transaction (an upsert: two first writers cannot
    collide; a token, not a counter: two concurrent writers cannot leave the same value)."""
    table = cast(Table, ConfigEntry.__table__)
    values = {"key": VERSION_KEY, "value": json.dumps(uuid.uuid4().hex)}
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(table).values(**values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.key], set_={"value": values["value"]}
        )
    )


def store(db: Database, changes: dict[str, Any]) -> None:
    with db.transaction() as s:
        write(s, changes)
    forget_cached(db)
