"""From events to deliveries: the subscriptions to registry and quota events, and
:func:`publish_event`, the one call that turns an event of a project into webhook tasks.

Enqueueing is a short insert (an execution and its task per target of each enabled policy
that wants the event), made after the change committed, so a slow or dead receiver never
slows a push: the job service delivers later. Pushes and deletes enqueue in the publishing
thread; pulls (whose GET may run on the event loop) and quota events (published inside the
push's transaction) are handed to a small background thread instead. A project no enabled
policy watches is answered from :mod:`.policy_cache`, without a query.

Other capabilities publish their events here with :func:`publish_event`:

    publish_event(db, project_id, "REPLICATION", payload)   # or "TAG_RETENTION"

where ``payload`` is Harbor's Default payload (``type``, ``occur_at``, ``operator``,
``event_data``: for replication ``{"replication": {...}}``, for retention
``{"retention": {...}}``, see docs/webhooks.md).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from harbor_api.db.models import WebhookPolicy
from harbor_api.db.session import Database
from harbor_api.jobs import executions as jobs
from harbor_api.log_setup import request_id_var
from harbor_api.services import events
from harbor_api.services.oci import quota_events
from harbor_api.services.replication.webhook_event import replication_events
from harbor_api.services.retention.webhook_event import retention_event
from harbor_api.services.webhooks import catalog, payloads
from harbor_api.services.webhooks.policy_cache import POLICY_CACHE

log = logging.getLogger(__name__)


def _retention(s: Session, hostname: str, execution_id: int, status: str) -> list:
    found = retention_event(s, hostname, execution_id, status)
    return [found] if found else []


#: vendor type of a finished execution -> (its event type, (s, hostname, id, status) ->
#: [(project id, payload)])
FINISHED_EVENTS: dict[str, tuple[str, Callable[..., list[tuple[int, dict[str, Any]]]]]] = {
    "REPLICATION": (catalog.REPLICATION, replication_events),
    "RETENTION": (catalog.TAG_RETENTION, _retention),
}
OUTBOX_SIZE = 10_000  # events waiting for the background thread; beyond, they are dropped


def enqueue(
    s: Session,
    project_id: int,
    event_type: str,
    payload: dict[str, Any],
    request_id: str = "",
) -> list[int]:
    """An execution (vendor ``WEBHOOK`` or ``SLACK``, vendor id the policy, trigger
    ``EVENT``) with one delivery task per target of every enabled policy of the project
    that wants ``event_type``; returns the execution ids. Runs in the caller's transaction."""
    created = []
    for policy in s.scalars(
        select(WebhookPolicy).where(
            WebhookPolicy.project_id == project_id, WebhookPolicy.enabled.is_(True)
        )
    ):
        if event_type not in json.loads(policy.event_types or "[]"):
            continue
        for index, target in enumerate(json.loads(policy.targets or "[]")):
            job_type = catalog.JOB_TYPES[target["type"]]
            execution = jobs.create_execution(
                s,
                job_type,
                job_type,
                vendor_id=policy.id,
                trigger="EVENT",
                params={
                    "policy_id": policy.id,
                    "project_id": project_id,
                    "target_index": index,
                    "address": target["address"],
                    "event_type": event_type,
                    "request_id": request_id,
                    "payload": payload,
                },
                extra_attrs={"event_type": event_type, "payload": payload},
            )
            created.append(execution.id)
    return created


def publish_event(
    db: Database, project_id: int, event_type: str, payload: dict[str, Any]
) -> list[int]:
    """Enqueue the deliveries of an event of ``project_id`` (after your own commit). The
    hook for events published elsewhere (``REPLICATION``, ``TAG_RETENTION``)."""
    if event_type not in catalog.EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type}")
    with db.transaction() as s:
        return enqueue(s, project_id, event_type, payload, request_id_var.get())


@dataclass
class Notifier:
    """One per process (built with the app state): the subscriptions and the outbox."""

    db: Database
    external_url: str
    cache_seconds: float
    _outbox: queue.Queue[Callable[[], None]] = field(
        default_factory=lambda: queue.Queue(OUTBOX_SIZE)
    )
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self) -> Notifier:
        events.subscribe(self.on_artifact_event)
        quota_events.subscribe(self.on_quota_event)
        for vendor_type in FINISHED_EVENTS:
            jobs.on_finished(vendor_type)(self.on_execution_finished)
        return self

    def uninstall(self) -> None:
        if self.on_artifact_event in events.SUBSCRIBERS:
            events.SUBSCRIBERS.remove(self.on_artifact_event)
        quota_events.unsubscribe(self.on_quota_event)
        for vendor_type in FINISHED_EVENTS:
            hooks = jobs.FINISHED_HOOKS.get(vendor_type, [])
            if self.on_execution_finished in hooks:
                hooks.remove(self.on_execution_finished)

    def on_execution_finished(self, db: Database, finished: jobs.FinishedExecution) -> None:
        """A replication or retention execution finished (the job service's hook, after
        its commit): its ``REPLICATION`` / ``TAG_RETENTION`` events."""
        if db is not self.db:
            return
        event_type, build = FINISHED_EVENTS[finished.vendor_type]
        hostname = payloads.registry_host(self.external_url)
        with db.read() as s:
            built = build(s, hostname, finished.id, finished.status)
        for project_id, payload in built:
            sub = POLICY_CACHE.by_id(db, self.cache_seconds, project_id)
            if sub is not None and event_type in sub.event_types:
                publish_event(db, project_id, event_type, payload)

    def on_artifact_event(self, db: Database, event: events.ArtifactEvent) -> None:
        event_type = catalog.ARTIFACT_EVENTS.get(event.kind)
        if db is not self.db or event_type is None:
            return
        if event_type == catalog.DELETE_ARTIFACT and not event.digest:
            return  # a tag deleted, not an artifact
        project = event.repository.split("/", 1)[0]
        sub = POLICY_CACHE.by_name(db, self.cache_seconds, project)
        if sub is None or event_type not in sub.event_types:
            return
        request_id = request_id_var.get()

        def deliver() -> None:
            with db.transaction() as s:
                payload = payloads.artifact_payload(
                    s,
                    self.external_url,
                    event_type,
                    sub.project_id,
                    event.repository,
                    event.digest,
                    event.tag,
                    event.operator,
                )
                enqueue(s, sub.project_id, event_type, payload, request_id)

        if event_type == catalog.PULL_ARTIFACT:
            self._hand_off(deliver)
        else:
            deliver()

    def on_quota_event(self, event: quota_events.QuotaEvent) -> None:
        sub = POLICY_CACHE.by_id(self.db, self.cache_seconds, event.project_id)
        if sub is None or event.type not in sub.event_types:
            return
        payload = payloads.quota_payload(event.type, sub.project_name, event.details)
        request_id = request_id_var.get()

        def deliver() -> None:  # after the push's transaction (it may still hold the lock)
            with self.db.transaction() as s:
                enqueue(s, sub.project_id, event.type, payload, request_id)

        self._hand_off(deliver)

    def _hand_off(self, work: Callable[[], None]) -> None:
        try:
            self._outbox.put_nowait(work)
        except queue.Full:
            log.warning("webhooks: outbox full, an event is dropped")
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._drain, name="webhook-outbox", daemon=True
                )
                self._thread.start()

    def _drain(self) -> None:
        while True:
            work = self._outbox.get()
            try:
                work()
            except Exception:  # an event's delivery never breaks the next one
                log.exception("webhooks: cannot enqueue a delivery")
