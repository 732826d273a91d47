"""Registry events (an artifact pushed, pulled, deleted) for whoever reacts to them:
replication's event-based policies and webhooks (:mod:`harbor_api.services.webhooks`).

Published after the change committed, in the publishing thread; a subscriber's failure is
logged and never fails the push or delete that caused it. A pull is published from the
manifest GET, which may run on the event loop: subscribers of pulls must answer from
memory when they have nothing to do (webhooks checks a cache of its policies).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from harbor_api.db.session import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArtifactEvent:
    kind: str  # "push" | "pull" | "delete"
    repository: str
    digest: str
    tag: str | None = None
    operator: str = ""  # who pushed, pulled or deleted (audit's actor name)


Subscriber = Callable[[Database, ArtifactEvent], None]
SUBSCRIBERS: list[Subscriber] = []


def subscribe(subscriber: Subscriber) -> Subscriber:
    SUBSCRIBERS.append(subscriber)
    return subscriber


def publish(db: Database, event: ArtifactEvent) -> None:
    publish_all(db, [event])


def publish_all(db: Database, batch: list[ArtifactEvent]) -> None:
    """Publish several events (a bulk delete's): a subscriber with a ``many`` attribute
    (``many(db, batch)``) gets them at once, e.g. to read its policies once; the others
    one by one."""
    for subscriber in list(SUBSCRIBERS):
        many = getattr(subscriber, "many", None)
        calls = [(many, batch)] if many is not None else [(subscriber, e) for e in batch]
        for call, argument in calls:
            try:
                call(db, argument)
            except Exception:  # an event's consumer never breaks the registry
                log.exception("event subscriber %s failed on %s", subscriber.__name__, argument)
