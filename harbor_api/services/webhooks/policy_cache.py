"""Which projects have enabled webhook policies, and for which events: kept in memory so a
pull (or push) of a project without a policy costs no database query.

The whole view is one small query (enabled policies joined to their projects), reloaded when
older than ``webhook_policy_cache_seconds``; this process's own policy writes drop it at once
(:meth:`PolicyCache.invalidate`), other processes see them within that many seconds.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import select

from harbor_api.db.models import Project, WebhookPolicy
from harbor_api.db.session import Database


@dataclass(frozen=True)
class Subscription:
    """A project that some enabled policy watches, and the events they watch in it."""

    project_id: int
    project_name: str
    event_types: frozenset[str]


@dataclass
class _View:
    loaded_at: float
    by_name: dict[str, Subscription] = field(default_factory=dict)
    by_id: dict[int, Subscription] = field(default_factory=dict)


class PolicyCache:
    def __init__(self) -> None:
        self._views: dict[int, _View] = {}  # id(Database) -> its view
        self._generation = 0
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        with self._lock:
            self._views.clear()
            self._generation += 1

    def by_name(self, db: Database, ttl: float, project_name: str) -> Subscription | None:
        return self._view(db, ttl).by_name.get(project_name)

    def by_id(self, db: Database, ttl: float, project_id: int) -> Subscription | None:
        return self._view(db, ttl).by_id.get(project_id)

    def _view(self, db: Database, ttl: float) -> _View:
        view = self._views.get(id(db))
        now = time.monotonic()
        if view is not None and now - view.loaded_at < ttl:
            return view
        generation = self._generation
        view = self._load(db, now)
        with self._lock:
            if generation == self._generation:  # no write dropped the cache meanwhile
                self._views[id(db)] = view
        return view

    @staticmethod
    def _load(db: Database, now: float) -> _View:
        watched: dict[int, tuple[str, set[str]]] = {}
        with db.read() as s:
            rows = s.execute(
                select(Project.id, Project.name, WebhookPolicy.event_types)
                .join(WebhookPolicy, WebhookPolicy.project_id == Project.id)
                .where(WebhookPolicy.enabled.is_(True))
            )
            for project_id, name, events in rows:
                watched.setdefault(project_id, (name, set()))[1].update(json.loads(events or "[]"))
        view = _View(now)
        for project_id, (name, events) in watched.items():
            sub = Subscription(project_id, name, frozenset(events))
            view.by_name[name] = sub
            view.by_id[project_id] = sub
        return view


#: one per process: the policy services drop it on every write
POLICY_CACHE = PolicyCache()
