"""Tag retention policies (Harbor's ``/retentions``): one per project, named by the project's
``retention_id`` metadata, managed by who holds ``tag-retention`` in the project (project
admins, maintainers and developers, as in Harbor; system admins everywhere).

A policy the caller may not see answers exactly as a missing one (404, same message).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, lazyload

from harbor_api.auth import rbac
from harbor_api.auth.principal import Principal
from harbor_api.db.models import Execution, Project, ProjectMetadata, RetentionPolicy, Task
from harbor_api.errors import BadRequestError, NotFoundError
from harbor_api.jobs import executions as jobs
from harbor_api.jobs.schedules import CronError, delete_schedule, set_schedule, validate_cron
from harbor_api.registry.paths import job_log_key
from harbor_api.registry.storage.base import StorageDriver, StorageNotFoundError
from harbor_api.services import audit
from harbor_api.services.context import RequestContext
from harbor_api.services.retention.rules import parse_rules

RETENTION = "RETENTION"  # executions' vendor type and the per-repository job type
SCHEDULE = "RETENTION_SCHEDULE"  # the schedules' vendor and job type (see task.py)
METADATA_KEY = "retention_id"


def _project(session: Session, project_id: int | None) -> Project | None:
    if project_id is None:
        return None
    return session.scalar(
        select(Project).options(lazyload(Project.metadata_entries)).where(Project.id == project_id)
    )


def authorized_policy(
    session: Session, principal: Principal, policy_id: int, action: str
) -> tuple[RetentionPolicy, Project]:
    """The policy, after checking ``tag-retention:<action>`` in its project; a missing policy
    and one in a project the caller cannot see give the same 404 after the same queries."""
    policy = session.get(RetentionPolicy, policy_id)
    project = _project(session, policy.project_id if policy else None)
    try:
        rbac.require_found(session, principal, project, str(policy_id), "tag-retention", action)
    except NotFoundError:
        raise NotFoundError(f"retention policy {policy_id} not found") from None
    assert policy is not None and project is not None
    return policy, project


def render(row: RetentionPolicy) -> dict[str, Any]:
    """Harbor's ``RetentionPolicy``."""
    return {
        "id": row.id,
        "algorithm": row.algorithm,
        "rules": json.loads(row.rules or "[]"),
        "trigger": {
            "kind": row.trigger_kind,
            "settings": {"cron": row.trigger_cron},
            "references": {},
        },
        "scope": {"level": "project", "ref": row.project_id},
    }


def _parse(body: dict[str, Any]) -> tuple[str, list[dict[str, Any]], str, str]:
    algorithm = body.get("algorithm") or "or"
    if algorithm != "or":
        raise BadRequestError(f"unsupported algorithm {algorithm!r}: only or")
    rules = parse_rules(body.get("rules"))
    trigger = body.get("trigger") or {}
    kind = trigger.get("kind") or "Schedule"
    if kind != "Schedule":
        raise BadRequestError(f"unsupported trigger kind {kind!r}: only Schedule")
    settings = trigger.get("settings") or {}
    cron = settings.get("cron") if isinstance(settings, dict) else None
    if cron is None:
        cron = ""
    if not isinstance(cron, str):
        raise BadRequestError("trigger.settings.cron must be a string")
    if cron.strip():
        try:
            cron = validate_cron(cron)
        except CronError as exc:
            raise BadRequestError(str(exc)) from None
    else:
        cron = ""
    return algorithm, rules, kind, cron


def _scope_project(body: dict[str, Any]) -> int:
    scope = body.get("scope") or {}
    ref = scope.get("ref")
    if scope.get("level") != "project" or not isinstance(ref, int) or isinstance(ref, bool):
        raise BadRequestError('scope must name a project: {"level": "project", "ref": <id>}')
    return ref


def _apply_schedule(session: Session, policy: RetentionPolicy) -> None:
    if policy.trigger_cron:
        set_schedule(
            session,
            SCHEDULE,
            SCHEDULE,
            policy.trigger_cron,
            vendor_id=policy.id,
            params={"policy_id": policy.id},
        )
    else:
        delete_schedule(session, SCHEDULE, policy.id)


def create_policy(ctx: RequestContext, body: dict[str, Any]) -> int:
    project_id = _scope_project(body)
    algorithm, rules, kind, cron = _parse(body)
    with ctx.db.transaction() as s:
        project = rbac.require_found(
            s, ctx.principal, _project(s, project_id), str(project_id), "tag-retention", "create"
        )
        existing = s.scalar(
            select(RetentionPolicy.id).where(RetentionPolicy.project_id == project.id)
        )
        if existing is not None:
            raise BadRequestError(f"project {project.name} already has retention policy {existing}")
        policy = RetentionPolicy(
            project_id=project.id,
            algorithm=algorithm,
            rules=json.dumps(rules),
            trigger_kind=kind,
            trigger_cron=cron,
        )
        s.add(policy)
        s.flush()
        _apply_schedule(s, policy)
        s.merge(ProjectMetadata(project_id=project.id, name=METADATA_KEY, value=str(policy.id)))
        audit.record(
            s, ctx.principal, "create", "retention", f"{project.name}:{policy.id}", project.id
        )
        return policy.id


def get_policy(ctx: RequestContext, policy_id: int) -> dict[str, Any]:
    with ctx.db.read() as s:
        policy, _ = authorized_policy(s, ctx.principal, policy_id, "read")
        return render(policy)


def update_policy(ctx: RequestContext, policy_id: int, body: dict[str, Any]) -> None:
    algorithm, rules, kind, cron = _parse(body)
    with ctx.db.transaction() as s:
        policy, project = authorized_policy(s, ctx.principal, policy_id, "update")
        if body.get("scope") and _scope_project(body) != project.id:
            raise BadRequestError("a retention policy stays with its project: scope.ref differs")
        policy.algorithm, policy.rules = algorithm, json.dumps(rules)
        policy.trigger_kind, policy.trigger_cron = kind, cron
        _apply_schedule(s, policy)
        audit.record(
            s, ctx.principal, "update", "retention", f"{project.name}:{policy.id}", project.id
        )


def delete_policy(ctx: RequestContext, policy_id: int) -> None:
    with ctx.db.transaction() as s:
        policy, project = authorized_policy(s, ctx.principal, policy_id, "delete")
        delete_schedule(s, SCHEDULE, policy.id)
        execution_ids = list(
            s.scalars(
                select(Execution.id).where(
                    Execution.vendor_type == RETENTION, Execution.vendor_id == policy.id
                )
            )
        )
        for execution_id in execution_ids:  # a running task stops at its next batch
            jobs.stop_execution(s, execution_id)
        if execution_ids:
            # the logs go first: a later task may get a freed id (SQLite) and must not
            # inherit a log
            task_ids = s.scalars(select(Task.id).where(Task.execution_id.in_(execution_ids)))
            for task_id in task_ids:
                _forget_log(ctx.app.storage, task_id)
            s.execute(delete(Execution).where(Execution.id.in_(execution_ids)))
        s.execute(
            delete(ProjectMetadata).where(
                ProjectMetadata.project_id == project.id, ProjectMetadata.name == METADATA_KEY
            )
        )
        s.delete(policy)
        audit.record(
            s, ctx.principal, "delete", "retention", f"{project.name}:{policy_id}", project.id
        )


def _forget_log(storage: StorageDriver, task_id: int) -> None:
    try:
        storage.delete(job_log_key(task_id))
    except StorageNotFoundError:
        pass  # the task never ran
