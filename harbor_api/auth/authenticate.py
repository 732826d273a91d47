"""Turn credentials (HTTP Basic, a session cookie) into a :class:`Principal`.

Verifying a password costs a slow KDF on purpose. To keep repeated Basic calls by the same
client cheap, a successful verification is remembered for a short while, keyed by an HMAC of
the credentials with a per-process secret and bound to the stored hash, so a password change
invalidates it at once.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from sqlalchemy import bindparam, select

from harbor_api.auth import robots
from harbor_api.auth.ldap_login import LOCAL_ADMIN, LdapLogin, ldap_mode, principal_for
from harbor_api.auth.login_cache import LoginCache
from harbor_api.auth.passwords import verify_password
from harbor_api.auth.principal import Principal
from harbor_api.auth.throttle import DatabaseStore, Standing, make_throttle, throttle_key
from harbor_api.auth.usernames import canonical_spacing, normalise
from harbor_api.db import config_store
from harbor_api.db.audit_records import add_record
from harbor_api.db.base import utcnow
from harbor_api.db.models import LoginFailure, LoginSession, User
from harbor_api.db.session import Database
from harbor_api.errors import UnauthorizedError
from harbor_api.log_setup import remote_var
from harbor_api.settings import Settings

log = logging.getLogger(__name__)
_LOGIN_ROW = select(User.id, User.username, User.sysadmin, User.password_hash).where(
    User.username == bindparam("name")
)
# the same row and the name's failure count in one statement (the cached-login hot path)
_LOGIN_ROW_AND_FAILURES = select(
    User.id,
    User.username,
    User.sysadmin,
    User.password_hash,
    select(LoginFailure.failures)
    .where(LoginFailure.username == bindparam("key"))
    .scalar_subquery()
    .label("failures"),
    select(LoginFailure.locked_until)
    .where(LoginFailure.username == bindparam("key"))
    .scalar_subquery()
    .label("locked_until"),
).where(User.username == bindparam("name"))


def locked_error(seconds: float) -> UnauthorizedError:
    """The 401 for a locked name, saying why and for how long."""
    return UnauthorizedError(
        "too many failed logins for this user name: try again in "
        f"{max(1, int(seconds + 0.999))} seconds"
    )


class RobotPrefix:
    """The configured robot name prefix (consulted on every Basic login and Bearer request):
    the configuration's per-request view, so a change holds from the next request on."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self) -> str:
        return str(config_store.effective(self.db)["robot_name_prefix"])


def user_principal(user: User, via: str, **extra: Any) -> Principal:
    return Principal(
        kind="user",
        user_id=user.id,
        username=user.username,
        sysadmin=user.sysadmin,
        via=via,
        **extra,
    )


class Authenticator:
    """Checks local (database) credentials; LDAP and robots plug in beside it."""

    def __init__(self, db: Database, settings: Settings | None = None) -> None:
        self.db = db
        self.cache = LoginCache()  # verified credentials → the stored hash
        self.throttle = make_throttle(db, settings)  # shared by every worker
        self.robot_prefix = RobotPrefix(db)
        self.ldap = LdapLogin(db)

    def basic(self, username: str, password: str) -> Principal | None:
        """A user or robot for Basic credentials; None (and an audit record) when refused.

        The name is normalised (NFKC) as accounts are; one with leading, trailing or repeated
        whitespace is refused and counted as a failure of the name without it. A name failing
        repeatedly is locked for a while (see :mod:`harbor_api.auth.throttle`): a 401 saying
        so (raised), without checking the password; other names are unaffected.
        """
        if not username or not password:
            return None
        if "\x00" in username:  # no account has one (and PostgreSQL text cannot hold it)
            self._record_denied(username, "invalid credentials")
            return None
        typed = normalise(username)
        # a directory matches "alice ", " alice" and "alice  " to alice: they are refused
        # before any lookup and counted against (and locked with) the name it matches
        username = canonical_spacing(typed)
        standing = self.throttle.standing(username)
        now = self.throttle.clock()
        if standing.locked(now):
            self._record_denied(username, "locked after repeated failures")
            raise locked_error(standing.locked_until - now)
        if typed != username:
            self.throttle.failed(username)
            self._record_denied(username, "leading, trailing or repeated spaces in the name")
            return None
        try:
            found = self._verify(username, password)
        except Exception:  # the directory could not answer: not a wrong password, no count
            self._record_denied(username, "directory unavailable")
            raise
        if found is None:
            self.throttle.failed(username)
            self._record_denied(username, "invalid credentials")
        else:
            self.throttle.succeeded(username, standing)
        return found

    def basic_cached(self, username: str, password: str) -> Principal | None:
        """A local user whose exact credentials were verified recently, from one indexed
        read (no KDF, no directory, no write: safe to run on the event loop with SQLite).
        None means "not known here": the caller then runs :meth:`basic` (which also answers
        for a locked name)."""
        if not username or not password or "\x00" in username:
            return None
        username = normalise(username)
        if self._is_robot(username) or (username != LOCAL_ADMIN and ldap_mode(self.db) is not None):
            return None
        with_failures = isinstance(self.throttle.store, DatabaseStore)
        with self.db.read() as s:
            if with_failures:
                row = (
                    s.connection()
                    .execute(
                        _LOGIN_ROW_AND_FAILURES, {"name": username, "key": throttle_key(username)}
                    )
                    .first()
                )
            else:
                row = s.connection().execute(_LOGIN_ROW, {"name": username}).first()
        if (
            row is None
            or not row.password_hash
            or self.cache.get(username, password) != row.password_hash
        ):
            return None
        if with_failures:
            until = row.locked_until
            standing = Standing(row.failures or 0, until.timestamp() if until else 0.0)
        else:
            standing = self.throttle.standing(username)
        if standing.failures:  # locked, or a count to reset: the slow path's business
            return None
        return Principal(
            kind="user", user_id=row.id, username=row.username, sysadmin=row.sysadmin, via="basic"
        )

    def _verify(self, username: str, password: str) -> Principal | None:
        if self._is_robot(username):
            return self._robot(username, password)
        settings = ldap_mode(self.db)
        if settings is not None and username != LOCAL_ADMIN:
            return self.ldap.basic(settings, username, password)
        return self._local_user(username, password)

    def _local_user(self, username: str, password: str) -> Principal | None:
        with self.db.read() as s:
            user = s.scalar(select(User).where(User.username == username))
            if user is None or not user.password_hash:
                verify_password(password, _DUMMY_HASH)  # same cost whether or not user exists
                return None
            if self.cache.get(username, password) == user.password_hash:
                return user_principal(user, "basic")
            if not verify_password(password, user.password_hash):
                return None
            self.cache.put(user.password_hash, username, password)
            return user_principal(user, "basic")

    def _robot_prefix(self) -> str:
        return self.robot_prefix.get()

    def _is_robot(self, username: str) -> bool:
        prefix = self._robot_prefix()
        return bool(prefix) and username.startswith(prefix)

    def _robot(self, username: str, secret: str) -> Principal | None:
        """A robot account by its full name; disabled or expired robots are refused."""
        stored_name = username[len(self._robot_prefix()) :]
        with self.db.read() as s:
            robot = robots.active_robot(s, stored_name)
            if robot is None:
                verify_password(secret, _DUMMY_HASH)
                return None
            if not (
                self.cache.get(username, secret) == robot.secret_hash
                or robots.check_secret(robot, secret)
            ):
                return None
            self.cache.put(robot.secret_hash, username, secret)
            return Principal(
                kind="robot",
                robot_id=robot.id,
                username=username,
                via="basic",
                robot_access=robots.access_entries(robot),
            )

    def _record_denied(self, username: str, reason: str) -> None:
        """Audit a refused login: who was tried, never the secret."""
        username = username.replace("\x00", "\\0")
        remote = remote_var.get()
        log.warning(
            "login failed for %r from %s: %s",
            username[:255],
            remote or "-",
            reason,
            extra={
                "event": "login_failed",
                "attempted_user": username[:255],
                "remote": remote,
                "reason": reason,
            },
        )
        try:
            with self.db.transaction() as s:
                add_record(
                    s,
                    username[:255] or "anonymous",
                    "login_failed",
                    "user",
                    f"{username} ({reason})",
                )
        except Exception:  # auditing must not turn a 401 into a 500
            log.warning("could not audit a failed login", exc_info=True)

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
                return principal_for(s, user, "session", session_id=sid, csrf_token=row.csrf_token)
            return user_principal(user, "session", session_id=sid, csrf_token=row.csrf_token)


_DUMMY_HASH = (
    "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
)
