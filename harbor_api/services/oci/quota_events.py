"""Quota events (``QUOTA_WARNING`` at 85 %, ``QUOTA_EXCEED`` on a refusal): published to the
subscribers registered here. Webhooks do not exist yet: they will subscribe to this hook;
until then every event is logged (logger ``harbor_api.quota``). Subscribers must be quick
and must not raise: they run inside the push's transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

QUOTA_WARNING = "QUOTA_WARNING"
QUOTA_EXCEED = "QUOTA_EXCEED"
WARNING_PERCENT = 85

log = logging.getLogger("harbor_api.quota")


@dataclass(frozen=True)
class QuotaEvent:
    type: str  # QUOTA_WARNING or QUOTA_EXCEED
    project_id: int
    details: str  # Harbor's custom_attributes.Details


Subscriber = Callable[[QuotaEvent], None]
_subscribers: list[Subscriber] = []


def subscribe(subscriber: Subscriber) -> None:
    _subscribers.append(subscriber)


def unsubscribe(subscriber: Subscriber) -> None:
    _subscribers.remove(subscriber)


def publish(kind: str, project_id: int, details: str) -> None:
    event = QuotaEvent(kind, project_id, details)
    log.info("%s project %s: %s", kind, project_id, details)
    for subscriber in list(_subscribers):
        try:
            subscriber(event)
        except Exception:  # a subscriber never breaks a push
            log.exception("quota event subscriber failed")
