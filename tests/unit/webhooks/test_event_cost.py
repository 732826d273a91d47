"""What webhooks add to a pull (or push) of a project no enabled policy watches: no SQL
statement (the policy cache answers), and a few microseconds; a watched project's pull
enqueues its delivery. In process, on SQLite."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import event as sa_event

from harbor_api.db.migrate import upgrade
from harbor_api.db.models import Execution, Project, WebhookPolicy
from harbor_api.db.session import Database
from harbor_api.services import events
from harbor_api.services.webhooks.notify import Notifier
from harbor_api.services.webhooks.policy_cache import POLICY_CACHE


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    upgrade(database.engine)
    with database.transaction() as s:
        s.add_all([Project(name="quiet"), Project(name="watched")])
    POLICY_CACHE.invalidate()
    yield database
    database.dispose()


@pytest.fixture
def notifier(db):
    installed = Notifier(db, "http://registry.example.com:5000", 60).install()
    yield installed
    installed.uninstall()


def _statements(db: Database, call) -> list[str]:
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", count)
    try:
        call()
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", count)
    return seen


def _pull(project: str) -> events.ArtifactEvent:
    return events.ArtifactEvent("pull", f"{project}/app", "sha256:" + "a" * 64, "v1", "admin")


def test_an_unwatched_pull_costs_no_query(db, notifier):
    events.publish(db, _pull("quiet"))  # loads the cache: one query
    assert _statements(db, lambda: [events.publish(db, _pull("quiet")) for _ in range(200)]) == []
    started = time.perf_counter()
    for _ in range(10_000):
        events.publish(db, _pull("quiet"))
    per_pull = (time.perf_counter() - started) / 10_000
    print(f"publishing an unwatched pull: {per_pull * 1e6:.1f} µs")
    assert per_pull < 200e-6


def test_a_watched_pull_is_enqueued_off_the_pulling_thread(db, notifier):
    with db.transaction() as s:
        watched = s.query(Project).filter_by(name="watched").one()
        s.add(
            WebhookPolicy(
                project_id=watched.id,
                name="hook",
                targets=json.dumps([{"type": "http", "address": "http://127.0.0.1:9/"}]),
                event_types=json.dumps(["PULL_ARTIFACT"]),
                enabled=True,
            )
        )
    POLICY_CACHE.invalidate()
    events.publish(db, _pull("watched"))
    events.publish(db, _pull("quiet"))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with db.read() as s:
            rows = [(e.vendor_type, e.extra_attrs) for e in s.query(Execution)]
        if rows:
            break
        time.sleep(0.05)
    assert len(rows) == 1 and rows[0][0] == "WEBHOOK"
    payload = json.loads(rows[0][1])["payload"]
    assert payload["type"] == "PULL_ARTIFACT"
    assert payload["event_data"]["resources"][0]["resource_url"] == (
        "registry.example.com:5000/watched/app:v1"
    )
