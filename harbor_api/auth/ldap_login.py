"""Logins in ``ldap_auth`` mode: verify against the directory, mirror the user locally.

The first successful login creates the local user (``auth_source`` "ldap", ``ldap_dn``); later
logins refresh e-mail and display name. The user's transitive LDAP groups and admin-group
membership are stored in ``ldap_memberships`` so that sessions and cached Basic logins carry
the same ``group_ids`` (matched against ``user_groups`` at each request, so a group made a
project member after the login counts at once).

A successful verification is remembered briefly (keyed by an HMAC of username and password,
bound to a fingerprint of the LDAP settings) so repeated Basic calls don't bind every time.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from harbor_api.auth.ldap import (
    Directory,
    DirectoryUser,
    LdapSettings,
    canonical_dn,
)
from harbor_api.auth.login_cache import LoginCache
from harbor_api.auth.principal import Principal
from harbor_api.auth.usernames import invisible_characters, normalise
from harbor_api.db import config_store
from harbor_api.db.models import LdapMembership, User, UserGroup
from harbor_api.db.session import Database
from harbor_api.errors import DirectoryUnreachableError

log = logging.getLogger(__name__)

LOCAL_ADMIN = "admin"  # always signs in against the database, whatever the auth mode
LDAP_GROUP = 1
MAX_CONCURRENT_DIRECTORY_LOGINS = 16


def ldap_mode(db: Database) -> LdapSettings | None:
    """The LDAP settings when ``auth_mode`` is ``ldap_auth``, else None."""
    cfg = config_store.effective(db)
    if cfg.get("auth_mode") != "ldap_auth":
        return None
    return LdapSettings.from_config(cfg)


def _settings_key(settings: LdapSettings) -> str:
    """Part of the cache key: a change to the LDAP settings forgets earlier logins."""
    return repr(dataclasses.astuple(settings))


class LdapLogin:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.cache = LoginCache()  # verified (credentials, settings) → local username
        self._directories: dict[LdapSettings, Directory] = {}
        # a slow directory may hold at most this many worker threads; the rest of the
        # server (and the local admin) keeps its threads
        self._slots = threading.BoundedSemaphore(MAX_CONCURRENT_DIRECTORY_LOGINS)

    def directory(self, settings: LdapSettings) -> Directory:
        found = self._directories.get(settings)
        if found is None:
            found = Directory(settings)
            self._directories = {settings: found}  # only the current settings are kept
        return found

    def basic(
        self, settings: LdapSettings, username: str, password: str, via: str = "basic"
    ) -> Principal | None:
        """Raises DirectoryError (a 401 with the reason) when the directory can't answer."""
        if not username or not password:
            return None
        local = self.cache.get(username, password, _settings_key(settings))
        if local is not None:
            with self.db.read() as s:
                user = s.scalar(select(User).where(User.username == local))
                if user is not None and user.auth_source == "ldap":
                    return principal_for(s, user, via)
        if not self._slots.acquire(timeout=settings.timeout):
            raise DirectoryUnreachableError("too many logins waiting for the directory")
        try:
            found = self.directory(settings).authenticate(username, password)
        finally:
            self._slots.release()
        if found is None:
            return None
        principal = self.onboard(found, via)
        if principal is not None:
            self.cache.put(principal.username, username, password, _settings_key(settings))
        return principal

    def onboard(self, found: DirectoryUser, via: str) -> Principal | None:
        """Create or refresh the local user and its membership snapshot."""
        for attempt in range(2):  # a concurrent first login may win the insert
            try:
                with self.db.transaction() as s:
                    user = sync_user(s, found)
                    if user is None:
                        return None
                    _sync_membership(s, user.id, found)
                    s.flush()
                    return principal_for(s, user, via)
            except IntegrityError:
                if attempt:
                    raise
        return None


def name_problem(found: DirectoryUser) -> str | None:
    """Why a directory user cannot be mirrored under its name (None: it can)."""
    hidden = invisible_characters(found.username)
    if hidden:
        return (
            "the directory user name holds invisible, control or formatting characters "
            f"({', '.join(dict.fromkeys(hidden))})"
        )
    return None


def sync_user(s: Session, found: DirectoryUser) -> User | None:
    """Create or refresh the local mirror of ``found`` under its NFKC-normalised name; None
    when a local user holds the name, or the name holds invisible characters."""
    problem = name_problem(found)
    if problem is not None:
        log.warning("LDAP login refused: %s", problem)
        return None
    found = dataclasses.replace(found, username=normalise(found.username))
    user = s.scalar(select(User).where(User.username == found.username))
    if user is not None and user.auth_source != "ldap":
        log.warning("LDAP login refused: a local (database) user has the same name")
        return None
    email = found.email or None
    if email:
        owner = s.scalar(select(User.id).where(User.email == email))
        if owner is not None and (user is None or owner != user.id):
            email = None  # e-mail addresses are unique locally; keep the login working
    if user is None:
        user = User(
            username=found.username,
            email=email,
            realname=found.realname,
            auth_source="ldap",
            ldap_dn=found.dn,
            password_hash="",
        )
        s.add(user)
        s.flush()
        return user
    if (user.email, user.realname, user.ldap_dn) != (email, found.realname, found.dn):
        user.email, user.realname, user.ldap_dn = email, found.realname, found.dn
    return user


def _sync_membership(s: Session, user_id: int, found: DirectoryUser) -> None:
    dns = json.dumps(sorted(found.group_dns))
    row = s.get(LdapMembership, user_id)
    if row is None:
        s.add(LdapMembership(user_id=user_id, group_dns=dns, admin=found.is_admin))
    elif (row.group_dns, row.admin) != (dns, found.is_admin):
        row.group_dns, row.admin = dns, found.is_admin


def group_ids_for(s: Session, group_dns: list[str]) -> tuple[int, ...]:
    """Ids of the LDAP user groups among ``group_dns`` (canonical DNs)."""
    if not group_dns:
        return ()
    wanted = [canonical_dn(dn) for dn in group_dns]
    rows = s.scalars(
        select(UserGroup.id).where(
            UserGroup.group_type == LDAP_GROUP, func.lower(UserGroup.ldap_group_dn).in_(wanted)
        )
    )
    return tuple(sorted(rows))


def membership_extras(s: Session, user: User) -> dict[str, Any]:
    """``group_ids`` and ``sysadmin`` for an LDAP user, from the last login's snapshot."""
    if user.auth_source != "ldap":
        return {"sysadmin": user.sysadmin}
    row = s.get(LdapMembership, user.id)
    if row is None:
        return {"sysadmin": user.sysadmin}
    return {
        "sysadmin": user.sysadmin or row.admin,
        "group_ids": group_ids_for(s, json.loads(row.group_dns or "[]")),
    }


def principal_for(s: Session, user: User, via: str, **extra: Any) -> Principal:
    return Principal(
        kind="user",
        user_id=user.id,
        username=user.username,
        via=via,
        **membership_extras(s, user),
        **extra,
    )
