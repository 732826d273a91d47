"""The login throttle: a brute-force brake shared by every worker process.

After ``after`` consecutive failed logins a login name is locked for ``base`` seconds, doubling
with each further failure up to ``cap``; while locked, attempts for that name are refused
without checking the password (and do not extend the lock). A success, a password reset or
an operator (:func:`clear`) removes the count; a count whose last failure is older than
:data:`RESET_AFTER` starts again from zero. Other names are never slowed.

The counters live where every worker sees them: the ``login_failures`` table, or Redis when
the ``redis_url`` setting is set. If the store cannot be reached the login goes on unthrottled
(logged): an outage of the counter store must not lock everybody out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, cast

from sqlalchemy import Table, bindparam, case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from harbor_api.auth.usernames import normalise
from harbor_api.db.models import LoginFailure
from harbor_api.db.session import Database
from harbor_api.settings import Settings

log = logging.getLogger(__name__)

RESET_AFTER = 12 * 3600  # quiet seconds after which failures are forgotten (Keycloak's default)
MAX_KEY = 255


def throttle_key(username: str) -> str:
    """The counter's name: the login name normalised as account lookups do (NFKC) and
    lower-cased (names are unique regardless of case, directories match case-insensitively),
    so spelling variants share one counter."""
    key = normalise(username).lower()
    if len(key) > MAX_KEY:
        key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return key


@dataclass(frozen=True)
class Standing:
    failures: int = 0
    locked_until: float = 0.0  # Unix seconds

    def locked(self, now: float) -> bool:
        return self.locked_until > now


CLEAN = Standing()


class Store(Protocol):
    def get(self, key: str) -> Standing: ...
    def add_failure(self, key: str, now: float, policy: LockPolicy) -> Standing: ...
    def clear(self, key: str) -> None: ...


@dataclass(frozen=True)
class LockPolicy:
    after: int = 5
    base: float = 60.0
    cap: float = 1800.0

    def lock_seconds(self, failures: int) -> float:
        if failures < self.after:
            return 0.0
        return float(min(self.cap, self.base * 2 ** min(failures - self.after, 32)))


def _utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


class DatabaseStore:
    """Counters in ``login_failures``: one primary-key read per login; a failure is one
    upsert (atomic across workers on SQLite and PostgreSQL) and, when it locks, one update."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._insert = postgresql.insert if db.dialect == "postgresql" else sqlite.insert
        self._get = select(LoginFailure.failures, LoginFailure.locked_until).where(
            LoginFailure.username == bindparam("key")
        )

    def get(self, key: str) -> Standing:
        with self.db.engine.connect() as connection:
            row = connection.execute(self._get, {"key": key}).first()
        if row is None:
            return CLEAN
        until = row.locked_until
        if until is not None and until.tzinfo is None:
            until = until.replace(tzinfo=dt.UTC)
        return Standing(row.failures, until.timestamp() if until else 0.0)

    def add_failure(self, key: str, now: float, policy: LockPolicy) -> Standing:
        table = cast(Table, LoginFailure.__table__)
        when, stale = _utc(now), _utc(now - RESET_AFTER)
        insert = self._insert(table).values(
            username=key, failures=1, last_failure=when, locked_until=None
        )
        upsert = insert.on_conflict_do_update(
            index_elements=[table.c.username],
            set_={
                "failures": case((table.c.last_failure < stale, 1), else_=table.c.failures + 1),
                "last_failure": when,
            },
        ).returning(table.c.failures)
        with self.db.transaction() as s:
            failures = int(s.execute(upsert).scalar_one())
            seconds = policy.lock_seconds(failures)
            if seconds:
                s.execute(
                    update(LoginFailure)
                    .where(LoginFailure.username == key)
                    .values(locked_until=_utc(now + seconds))
                )
            if random.random() < 0.01:  # forget names nobody has tried for a long time
                s.execute(delete(LoginFailure).where(LoginFailure.last_failure < stale))
        return Standing(failures, now + seconds if seconds else 0.0)

    def clear(self, key: str) -> None:
        with self.db.transaction() as s:
            s.execute(delete(LoginFailure).where(LoginFailure.username == key))


_REDIS_FAILURE = """
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
redis.call('HSET', KEYS[1], 'last_failure', ARGV[1])
local locked = 0
if failures >= tonumber(ARGV[2]) then
  local seconds = tonumber(ARGV[3]) * 2 ^ math.min(failures - tonumber(ARGV[2]), 32)
  locked = tonumber(ARGV[1]) + math.min(tonumber(ARGV[4]), seconds)
  redis.call('HSET', KEYS[1], 'locked_until', tostring(locked))
end
redis.call('EXPIRE', KEYS[1], ARGV[5])
return {failures, tostring(locked)}
"""


class RedisStore:
    """Counters in Redis hashes ``harbor:login-failures:<key>`` (failures, locked_until,
    last_failure), updated by one atomic script; forgotten by Redis after a quiet period."""

    PREFIX = "harbor:login-failures:"

    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._failure = self.client.register_script(_REDIS_FAILURE)

    def get(self, key: str) -> Standing:
        failures, until = self.client.hmget(self.PREFIX + key, "failures", "locked_until")
        if failures is None:
            return CLEAN
        return Standing(int(failures), float(until or 0))

    def add_failure(self, key: str, now: float, policy: LockPolicy) -> Standing:
        expire = int(max(RESET_AFTER, policy.cap)) + 60
        failures, until = self._failure(
            keys=[self.PREFIX + key],
            args=[repr(now), policy.after, policy.base, policy.cap, expire],
        )
        return Standing(int(failures), float(until))

    def clear(self, key: str) -> None:
        self.client.delete(self.PREFIX + key)


class LoginThrottle:
    """``standing(name)`` before checking a password; ``failed`` / ``succeeded`` after."""

    def __init__(
        self, store: Store, policy: LockPolicy | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.store, self.policy, self.clock = store, policy or LockPolicy(), clock

    def standing(self, username: str) -> Standing:
        try:
            return self.store.get(throttle_key(username))
        except Exception as exc:
            log.warning("login throttle store unavailable (%s): not throttling", exc)
            return CLEAN

    def locked(self, username: str) -> float:
        """Seconds the name stays locked (0: not locked)."""
        now = self.clock()
        found = self.standing(username)
        return max(0.0, found.locked_until - now) if found.locked(now) else 0.0

    def failed(self, username: str) -> Standing:
        try:
            return self.store.add_failure(throttle_key(username), self.clock(), self.policy)
        except Exception as exc:
            log.warning("login throttle store unavailable (%s): failure not counted", exc)
            return CLEAN

    def succeeded(self, username: str, standing: Standing | None = None) -> None:
        """Reset the count; a no-op (no write) when ``standing`` says there is none."""
        if standing is not None and not standing.failures:
            return
        self.clear(username)

    def clear(self, username: str) -> None:
        try:
            self.store.clear(throttle_key(username))
        except Exception as exc:
            log.warning("login throttle store unavailable (%s): count not reset", exc)


def make_throttle(db: Database, settings: Settings | None = None) -> LoginThrottle:
    """The throttle the settings ask for (database store unless ``redis_url`` is set)."""
    policy = LockPolicy()
    store: Store = DatabaseStore(db)
    if settings is not None:
        policy = LockPolicy(
            settings.login_lock_after,
            float(settings.login_lock_seconds),
            float(settings.login_lock_max_seconds),
        )
        if settings.redis_url:
            store = RedisStore(settings.redis_url)
    return LoginThrottle(store, policy)


def clear(settings: Settings | None, db: Database, username: str) -> None:
    """Operator's way out: forget the failures (and the lock) of ``username``."""
    make_throttle(db, settings).clear(username)
