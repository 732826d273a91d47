"""Cron schedules: Harbor's 6-field form, exactly-once firing by compare-and-set."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from harbor_api.db.base import utcnow
from harbor_api.db.models import Execution, Schedule
from harbor_api.db.session import Database
from harbor_api.jobs import schedules


def test_six_fields_seconds_first():
    start = dt.datetime(2026, 1, 1, 0, 0, 0, tzinfo=dt.UTC)
    assert schedules.next_after("*/15 * * * * *", start) == start + dt.timedelta(seconds=15)
    assert schedules.next_after("0 30 2 * * *", start) == start.replace(hour=2, minute=30)


@pytest.mark.parametrize("bad", ["* * * * *", "* * * * * * *", "61 * * * * *", "nonsense", ""])
def test_other_forms_are_refused(bad):
    with pytest.raises(schedules.CronError):
        schedules.validate_cron(bad)


def test_a_due_schedule_fires_once_and_moves_on(db):
    with db.transaction() as s:
        schedules.set_schedule(
            s,
            "TEST_VENDOR",
            "TEST_STEPS",
            "* * * * * *",
            params={"steps": 1},
            extra_attrs={"who": "test"},
        )
    now = utcnow() + dt.timedelta(seconds=2)
    fired = schedules.fire_due(db, now)
    assert len(fired) == 1
    assert schedules.fire_due(db, now) == []  # the same occurrence never fires twice
    with db.read() as s:
        execution = s.get(Execution, fired[0])
        assert execution.trigger == "SCHEDULE" and execution.vendor_type == "TEST_VENDOR"
        assert s.query(Schedule).one().next_fire_at > now
    items, total = schedules.list_schedules(db, 0, 10)
    assert total == 1 and items[0]["cron"] == "* * * * * *"
    assert items[0]["extra_attrs"] == {"who": "test"}


def test_racing_processes_fire_each_occurrence_exactly_once(db):
    """Several processes' scheduler loops (each its own engine) tick at the same moments."""
    with db.transaction() as s:
        schedules.set_schedule(s, "TEST_VENDOR", "TEST_STEPS", "* * * * * *")
    engines = [Database(db.url) for _ in range(4)]
    start = utcnow()
    fired: list[int] = []
    lock = threading.Lock()

    def loop(engine):
        for second in range(1, 6):
            got = schedules.fire_due(engine, start + dt.timedelta(seconds=second, milliseconds=1))
            with lock:
                fired.extend(got)

    threads = [threading.Thread(target=loop, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for engine in engines:
        engine.dispose()
    with db.read() as s:
        count = s.query(Execution).count()
    assert count == len(fired) == len(set(fired))
    assert 1 <= count <= 5  # one per due moment some thread saw, never one per thread


def test_set_replaces_and_delete_removes(db):
    with db.transaction() as s:
        schedules.set_schedule(s, "V", "TEST_STEPS", "0 0 * * * *")
        schedules.set_schedule(s, "V", "TEST_STEPS", "0 0 1 * * *")
    with db.transaction() as s:
        assert s.query(Schedule).one().cron == "0 0 1 * * *"
        assert schedules.delete_schedule(s, "V")
        assert not schedules.delete_schedule(s, "V")
