"""Turn credentials (HTTP Basic, a session cookie) into a :class:`Principal`.

Verifying a password costs a slow KDF on purpose. To keep repeated Basic calls by the same
client cheap, a successful verification is remembered for a short while, keyed by an HMAC of
the credentials with a per-process secret and bound to the stored hash, so a password change
invalidates it at once.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time
from collections import OrderedDict

from sqlalchemy import select

from harbor_api.auth.ldap_login import LOCAL_ADMIN, LdapLogin, ldap_mode, principal_for
from harbor_api.auth.passwords import verify_password
from harbor_api.auth.principal import Principal
from harbor_api.db.base import utcnow
from harbor_api.db.models import LoginSession, User
from harbor_api.db.session import Database

_CACHE_SECONDS = 60.0
_CACHE_SIZE = 4096


class CredentialCache:
    def __init__(self) -> None:
        self._key = os.urandom(32)
        self._entries: OrderedDict[bytes, tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def _slot(self, username: str, password: str) -> bytes:
        return hmac.new(self._key, f"{username}\0{password}".encode(), hashlib.sha256).digest()

    def hit(self, username: str, password: str, stored_hash: str) -> bool:
        slot = self._slot(username, password)
        with self._lock:
            entry = self._entries.get(slot)
            if entry is None:
                return False
            cached_hash, expires = entry
            if expires < time.monotonic() or cached_hash != stored_hash:
                self._entries.pop(slot, None)
                return False
            return True

    def remember(self, username: str, password: str, stored_hash: str) -> None:
        slot = self._slot(username, password)
        with self._lock:
            self._entries[slot] = (stored_hash, time.monotonic() + _CACHE_SECONDS)
            self._entries.move_to_end(slot)
            while len(self._entries) > _CACHE_SIZE:
                self._entries.popitem(last=False)


def user_principal(user: User, via: str, **extra) -> Principal:
    return Principal(kind="user", user_id=user.id, username=user.username,
                     sysadmin=user.sysadmin, via=via, **extra)


class Authenticator:
    """Checks local (database) credentials; LDAP and robots plug in beside it."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.cache = CredentialCache()
        self.ldap = LdapLogin(db)

    def basic(self, username: str, password: str) -> Principal | None:
        if not username or not password:
            return None
        if username != LOCAL_ADMIN:
            ldap_settings = ldap_mode(self.db)
            if ldap_settings is not None:  # ldap_auth: every user but the local admin
                return self.ldap.basic(ldap_settings, username, password)
        with self.db.read() as s:
            user = s.scalar(select(User).where(User.username == username))
            if user is None or not user.password_hash:
                verify_password(password, _DUMMY_HASH)  # same cost whether or not user exists
                return None
            if self.cache.hit(username, password, user.password_hash):
                return user_principal(user, "basic")
            if not verify_password(password, user.password_hash):
                return None
            self.cache.remember(username, password, user.password_hash)
            return user_principal(user, "basic")

    def session(self, token: str) -> Principal | None:
        if not token:
            return None
        sid = hashlib.sha256(token.encode()).hexdigest()
        with self.db.read() as s:
            row = s.get(LoginSession, sid)
            if row is None or row.expires_at < utcnow():
                return None
            user = s.get(User, row.user_id)
            if user is None:
                return None
            if user.auth_source == "ldap":  # groups and admin group from the last login
                return principal_for(s, user, "session", session_id=sid,
                                     csrf_token=row.csrf_token)
            return user_principal(user, "session", session_id=sid, csrf_token=row.csrf_token)


_DUMMY_HASH = ("scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$"
               "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
