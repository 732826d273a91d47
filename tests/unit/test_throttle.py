"""The login throttle's rules on its real stores (a SQLite file, the local Redis), with a
controlled clock: when a lock starts, how it grows, when it is forgotten."""

from __future__ import annotations

import uuid

import pytest

from harbor_api.auth import throttle
from harbor_api.auth.throttle import DatabaseStore, LockPolicy, LoginThrottle, RedisStore
from harbor_api.db.base import Base
from harbor_api.db.session import Database

REDIS_URL = "redis://127.0.0.1:6379/0"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["database", "redis"])
def store(request, tmp_path):
    if request.param == "redis":
        yield RedisStore(REDIS_URL)
        return
    db = Database(f"sqlite:///{tmp_path / 'throttle.db'}")
    Base.metadata.create_all(db.engine)
    yield DatabaseStore(db)
    db.dispose()


def fails(brake: LoginThrottle, name: str, times: int) -> None:
    for _ in range(times):
        brake.failed(name)


def test_lock_starts_at_the_threshold_doubles_and_is_capped(store):
    clock, name = Clock(), f"u-{uuid.uuid4().hex[:8]}"
    brake = LoginThrottle(store, LockPolicy(after=5, base=60, cap=1800), clock)
    fails(brake, name, 4)
    assert brake.locked(name) == 0 and brake.standing(name).failures == 4
    brake.failed(name)
    assert brake.locked(name) == pytest.approx(60)
    for expected in (120, 240, 480, 960, 1800, 1800):
        clock.now += 2000  # the lock ended; the next failure locks for longer
        assert brake.locked(name) == 0
        brake.failed(name)
        assert brake.locked(name) == pytest.approx(expected)
    brake.succeeded(name, brake.standing(name))
    assert brake.standing(name).failures == 0 and brake.locked(name) == 0


def test_spellings_share_a_counter_and_a_long_quiet_forgets(store):
    clock, name = Clock(), f"U-{uuid.uuid4().hex[:8]}"
    brake = LoginThrottle(store, LockPolicy(after=3, base=10, cap=100), clock)
    brake.failed(name)
    brake.failed(name.lower())
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in name)
    brake.failed(fullwidth)
    assert brake.locked(name.upper()) == pytest.approx(10)
    if isinstance(store, DatabaseStore):  # Redis forgets by key expiry instead
        clock.now += throttle.RESET_AFTER + 1
        brake.failed(name)
        assert brake.standing(name).failures == 1


def test_a_success_without_failures_writes_nothing(tmp_path):
    class Counting(DatabaseStore):
        clears = 0

        def clear(self, key):
            Counting.clears += 1
            super().clear(key)

    db = Database(f"sqlite:///{tmp_path / 't.db'}")
    Base.metadata.create_all(db.engine)
    brake = LoginThrottle(Counting(db))
    brake.succeeded("someone", brake.standing("someone"))
    assert Counting.clears == 0
    db.dispose()


def test_an_unreachable_store_does_not_lock_everybody_out():
    brake = LoginThrottle(RedisStore("redis://127.0.0.1:1/0"))
    assert brake.locked("admin") == 0
    brake.failed("admin")  # logged, not raised
    brake.clear("admin")


def test_very_long_names_get_a_bounded_key():
    key = throttle.throttle_key("x" * 1000)
    assert len(key) <= throttle.MAX_KEY and key.startswith("sha256:")
