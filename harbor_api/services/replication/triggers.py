"""The automatic triggers of replication policies: ``scheduled`` (a job-service schedule per
policy whose job starts an execution) and ``event_based`` (an execution for each artifact
pushed to this instance that an enabled push-mode policy selects)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from harbor_api.db.models import ReplicationPolicy
from harbor_api.db.session import Database
from harbor_api.errors import HarborError
from harbor_api.jobs import executions as jobs
from harbor_api.jobs.types import JobType, register
from harbor_api.services import events
from harbor_api.services.replication import executions
from harbor_api.services.replication.copy_task import REPLICATION

REPLICATION_SCHEDULE = "REPLICATION_SCHEDULE"


def run_schedule(ctx: Any) -> None:
    """A schedule fired: start the policy's execution now (its filters select now)."""
    policy_id = int(ctx.params["policy_id"])
    listing = None
    with ctx.db.read() as s:
        policy = s.get(ReplicationPolicy, policy_id)
        if policy is not None and policy.enabled and policy.dest_registry_id is None:
            s.expunge(policy)
            pull = policy
        else:
            pull = None
    if pull is not None:  # pull mode: the source is listed outside any transaction
        listing = executions.list_source(ctx.db, ctx.settings, pull)
    with ctx.db.transaction() as s:
        policy = s.get(ReplicationPolicy, policy_id)
        if policy is None or not policy.enabled:
            ctx.log(f"policy {policy_id} is gone or disabled: nothing started")
            return
        try:
            execution_id = executions.start(s, policy, "SCHEDULE", listing=listing)
        except HarborError as exc:
            ctx.log(f"policy {policy.name}: not started: {exc.message}")
            return
    ctx.log(f"policy {policy_id}: started replication execution {execution_id}")


@events.subscribe
def replicate_deleted(db: Database, event: events.ArtifactEvent) -> None:
    """Deletion sync: event-based push policies with ``replicate_deletion`` whose name
    filter (and tag filter, for a tag) selects what was deleted delete it there too."""
    replicate_deleted_many(db, [event])


def replicate_deleted_many(db: Database, batch: list[events.ArtifactEvent]) -> None:
    """:func:`replicate_deleted` for a bulk delete's events: one transaction, the
    policies read once."""
    deleted = [event for event in batch if event.kind == "delete"]
    if not deleted:
        return
    with db.transaction() as s:
        policies = list(
            s.scalars(
                select(ReplicationPolicy).where(
                    ReplicationPolicy.trigger_type == "event_based",
                    ReplicationPolicy.replicate_deletion.is_(True),
                    ReplicationPolicy.enabled.is_(True),
                    ReplicationPolicy.dest_registry_id.is_not(None),
                )
            )
        )
        for event in deleted:
            for policy in policies:
                params = executions.plan_deletion(policy, event)
                if params is not None:
                    jobs.create_execution(
                        s,
                        REPLICATION,
                        REPLICATION,
                        vendor_id=policy.id,
                        trigger="EVENT",
                        params=[params],
                    )


replicate_deleted.many = replicate_deleted_many  # type: ignore[attr-defined]


@events.subscribe
def replicate_pushed(db: Database, event: events.ArtifactEvent) -> None:
    if event.kind != "push":
        return
    query = select(ReplicationPolicy).where(
        ReplicationPolicy.trigger_type == "event_based",
        ReplicationPolicy.enabled.is_(True),
        ReplicationPolicy.dest_registry_id.is_not(None),
    )
    with db.read() as s:  # the usual case, no such policy: no write transaction to end
        if s.scalar(select(query.exists())) is not True:
            return
    with db.transaction() as s:
        policies = list(s.scalars(query))
        for policy in policies:
            if executions.plan_tasks(s, policy, (event.repository, event.digest)):
                try:
                    executions.start(s, policy, "EVENT", (event.repository, event.digest))
                except HarborError:
                    continue  # single_active_replication: one already runs


register(
    JobType(
        REPLICATION_SCHEDULE,
        run_schedule,
        "A replication policy's schedule fired: start an execution of the policy.",
        max_retries=3,
        backoff_seconds=10.0,
        max_backoff_seconds=300.0,
    )
)
