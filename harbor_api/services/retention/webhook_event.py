"""The ``TAG_RETENTION`` webhook event of a finished retention execution (Harbor's
``event_data.retention``): sent for a real run that deleted something, as Harbor does (a
dry run, or a run that kept everything, sends nothing)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from harbor_api.db.models import Execution, Project, RetentionPolicy, RetentionTaskResult, Task
from harbor_api.services.retention.executions import STATUS_NAMES


def retention_event(
    s: Session, hostname: str, execution_id: int, status: str
) -> tuple[int, dict[str, Any]] | None:
    """(project id, Harbor's Default payload) or None when nothing is to be sent."""
    execution = s.get(Execution, execution_id)
    if execution is None or json.loads(execution.extra_attrs or "{}").get("dry_run"):
        return None
    policy = s.get(RetentionPolicy, execution.vendor_id)
    if policy is None:
        return None
    total, retained = s.execute(
        select(
            func.coalesce(func.sum(RetentionTaskResult.total), 0),
            func.coalesce(func.sum(RetentionTaskResult.retained), 0),
        )
        .join(Task, Task.id == RetentionTaskResult.task_id)
        .where(Task.execution_id == execution_id)
    ).one()
    if total == retained:
        return None
    project = s.scalar(select(Project.name).where(Project.id == policy.project_id))
    retention = {
        "total": int(total),
        "retained": int(retained),
        "harbor_hostname": hostname,
        "project_name": project,
        "retention_policy_id": policy.id,
        "retention_rule": [
            {
                "template": rule.get("template"),
                "params": rule.get("params") or {},
                "tag_selectors": rule.get("tag_selectors") or [],
                "scope_selectors": rule.get("scope_selectors") or {},
            }
            for rule in json.loads(policy.rules or "[]")
            if not rule.get("disabled")
        ],
        "result": STATUS_NAMES[status].upper(),
    }
    payload = {
        "type": "TAG_RETENTION",
        "occur_at": int((execution.end_time or execution.update_time).timestamp()),
        "operator": execution.trigger,
        "event_data": {"retention": retention},
    }
    return policy.project_id, payload
