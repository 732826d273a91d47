"""The retention jobs: ``RETENTION`` (one repository: select, log, delete) and
``RETENTION_SCHEDULE`` (a policy's cron fired: start an execution).

A task reads the repository's top-level artifacts (index children go with their index,
accessories with their subject) in one statement, keeps what the rules (or the protection
hook, see :mod:`.protection`) keep, and logs every artifact with ``RETAIN``, ``DEL`` or
``IMMUTABLE``. A dry run stops there. A real run then deletes the ``DEL`` artifacts, a few
per transaction, through the registry's one rule (``services.oci.artifacts.delete_artifact``),
after checking it still carries the tags it was judged by: an artifact re-tagged meanwhile
is kept (``CHANGED``), and what a real run deletes is never more than it logged.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import exists, select

from harbor_api.db.audit_records import add_records
from harbor_api.db.base import utcnow
from harbor_api.db.models import (
    Artifact,
    ArtifactReference,
    RetentionPolicy,
    RetentionTaskResult,
    Tag,
)
from harbor_api.jobs.schedules import delete_schedule
from harbor_api.jobs.types import JobType, register
from harbor_api.services import events
from harbor_api.services.oci import artifacts as oci_artifacts
from harbor_api.services.retention import executions, protection
from harbor_api.services.retention.policies import RETENTION, SCHEDULE
from harbor_api.services.retention.rules import Candidate, compile_rules, evaluate

ACTOR = "tag-retention"  # the audit log's username for what a run deletes
DELETE_BATCH = 25  # deletions per transaction and per log write (a write stores the whole log)


def _candidates(s, repository_id: int) -> list[Candidate]:
    is_child = exists().where(ArtifactReference.child_id == Artifact.id)
    rows = s.execute(
        select(Artifact.id, Artifact.digest, Artifact.push_time, Artifact.pull_time).where(
            Artifact.repository_id == repository_id,
            Artifact.subject_digest.is_(None),
            ~is_child,
        )
    ).all()
    tags: dict[int, list[str]] = {}
    for artifact_id, name in s.execute(
        select(Tag.artifact_id, Tag.name)
        .where(Tag.repository_id == repository_id)
        .order_by(Tag.name)
    ):
        tags.setdefault(artifact_id, []).append(name)
    return [
        Candidate(row.id, row.digest, tuple(tags.get(row.id, ())), row.push_time, row.pull_time)
        for row in rows
    ]


def _stamp(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else "-"


def run_repository(ctx: Any) -> None:
    p = ctx.params
    repository, repository_id = p["repository"], int(p["repository_id"])
    project_id, dry_run = int(p["project_id"]), bool(p.get("dry_run"))
    rules = compile_rules(p.get("rules") or [])
    project_name = repository.split("/", 1)[0]
    inside = repository[len(project_name) + 1 :]
    with ctx.db.read() as s:
        candidates = _candidates(s, repository_id)
        guarded = protection.protected(
            s, project_id, repository_id, repository, {c.artifact_id: c.tags for c in candidates}
        )
    kept = evaluate(rules, inside, candidates, utcnow()) | guarded
    ordered = sorted(candidates, key=lambda c: (c.push_time, c.artifact_id), reverse=True)
    retained = sum(1 for c in candidates if c.artifact_id in kept)
    note = " (dry run: nothing is deleted)" if dry_run else ""
    ctx.log(f"repository {repository}: {len(candidates)} artifact(s), {retained} retained{note}")
    table = ["Digest | Tags | PushedTime | PulledTime | Retention"]
    for c in ordered:
        verdict = (
            "IMMUTABLE"
            if c.artifact_id in guarded
            else "RETAIN"
            if c.artifact_id in kept
            else "DEL"
        )
        table.append(
            f"{c.digest} | {','.join(c.tags) or '<untagged>'} | {_stamp(c.push_time)} | "
            f"{_stamp(c.pull_time)} | {verdict}"
        )
    ctx.log("\n".join(table))  # one write: the log is stored whole at every write
    if not dry_run:
        doomed = [c for c in ordered if c.artifact_id not in kept]
        for start in range(0, len(doomed), DELETE_BATCH):
            if ctx.should_stop():
                ctx.log("stop requested: the remaining artifacts stay")
                break
            retained += _delete_batch(
                ctx, project_id, repository, repository_id, doomed[start : start + DELETE_BATCH]
            )
    with ctx.db.transaction() as s:
        s.merge(RetentionTaskResult(task_id=ctx.task_id, total=len(candidates), retained=retained))


def _delete_batch(
    ctx: Any, project_id: int, repository: str, repository_id: int, batch: list[Candidate]
) -> int:
    """Delete a few ``DEL`` artifacts in one transaction (one commit, one log write, one
    audit append, the quota given back once); an artifact changed since it was judged
    (re-tagged, re-pushed) or gone meanwhile is left alone. Returns how many were kept
    after all."""
    outcomes: dict[str, str] = {}
    with ctx.db.transaction() as s:
        ids = [c.artifact_id for c in batch]
        current = {
            a.id: a
            for a in s.scalars(
                select(Artifact).where(
                    Artifact.id.in_(ids), Artifact.repository_id == repository_id
                )
            )
        }
        now_tags: dict[int, list[str]] = {}
        for artifact_id, name in s.execute(
            select(Tag.artifact_id, Tag.name).where(Tag.artifact_id.in_(ids)).order_by(Tag.name)
        ):
            now_tags.setdefault(artifact_id, []).append(name)
        unchanged = []
        for c in batch:
            artifact = current.get(c.artifact_id)
            tags = tuple(now_tags.get(c.artifact_id, ()))
            if artifact is None:
                outcomes[c.digest] = "already gone"
            elif tags != c.tags or artifact.push_time != c.push_time:
                outcomes[c.digest] = (
                    f"CHANGED since it was judged (tags {','.join(tags) or '-'}): kept"
                )
            else:
                unchanged.append(artifact)
        deleted, refused = oci_artifacts.delete_artifacts(s, repository_id, unchanged)
        for artifact in unchanged:
            if artifact.id in refused:
                outcomes[artifact.digest] = f"kept: {refused[artifact.id]}"
        for artifact in deleted:
            outcomes[artifact.digest] = "deleted"
        add_records(
            s,
            [
                {
                    "project_id": project_id,
                    "operation": "delete",
                    "resource_type": "artifact",
                    "resource": f"{repository}@{artifact.digest}",
                    "username": ACTOR,
                }
                for artifact in deleted
            ],
        )
    ctx.log("\n".join(f"{c.digest}: {outcomes[c.digest]}" for c in batch))
    events.publish_all(
        ctx.db, [events.ArtifactEvent("delete", repository, a.digest) for a in deleted]
    )
    return sum(1 for verdict in outcomes.values() if verdict.endswith("kept") or "kept:" in verdict)


def run_schedule(ctx: Any) -> None:
    """A policy's schedule fired: start its execution now (the rules select now)."""
    policy_id = int(ctx.params["policy_id"])
    with ctx.db.transaction() as s:
        policy = s.get(RetentionPolicy, policy_id)
        if policy is None:  # its project was deleted (the row went with it): so does this
            delete_schedule(s, SCHEDULE, policy_id)
            ctx.log(f"retention policy {policy_id} is gone: nothing started, schedule removed")
            return
        execution_id = executions.start(s, policy, "SCHEDULE", False)
    ctx.log(f"retention policy {policy_id}: started execution {execution_id}")


register(
    JobType(
        RETENTION,
        run_repository,
        "Apply a tag retention policy's rules to one repository: log what stays and what "
        "goes, then (unless dry_run) delete what goes.",
        max_retries=2,
        backoff_seconds=10.0,
        max_backoff_seconds=120.0,
    )
)
register(
    JobType(
        SCHEDULE,
        run_schedule,
        "A tag retention policy's schedule fired: start an execution of the policy.",
        max_retries=3,
        backoff_seconds=10.0,
        max_backoff_seconds=300.0,
    )
)
