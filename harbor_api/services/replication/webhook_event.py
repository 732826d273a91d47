"""The ``REPLICATION`` webhook events of a finished replication execution (Harbor's
``event_data.replication``): one per project of this instance that the execution read from
(push mode) or wrote to (pull mode), listing its artifacts that copied and that failed."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from harbor_api.db.models import Execution, Project, RegistryEndpoint, ReplicationPolicy, Task
from harbor_api.jobs import status as st
from harbor_api.services.replication.executions import TRIGGERS

JOB_STATUSES = {st.SUCCESS: "Success", st.ERROR: "Error", st.STOPPED: "Stopped"}


def _resource(endpoint: RegistryEndpoint | None, hostname: str, namespace: str) -> dict:
    """Harbor's ``ReplicationResource``: a registry endpoint, or this instance."""
    if endpoint is None:
        return {
            "registry_type": "harbor",
            "endpoint": f"https://{hostname}" if "://" not in hostname else hostname,
            "namespace": namespace,
        }
    return {
        "registry_name": endpoint.name,
        "registry_type": endpoint.type,
        "endpoint": endpoint.url,
        "namespace": namespace,
    }


def replication_events(
    s: Session, hostname: str, execution_id: int, status: str
) -> list[tuple[int, dict[str, Any]]]:
    """[(project id, Harbor's Default payload)], one per local project the tasks touched."""
    execution = s.get(Execution, execution_id)
    policy = s.get(ReplicationPolicy, execution.vendor_id) if execution else None
    if execution is None or policy is None:
        return []
    pull = policy.dest_registry_id is None
    remote_id = policy.src_registry_id if pull else policy.dest_registry_id
    remote = s.get(RegistryEndpoint, remote_id) if remote_id is not None else None
    by_project: dict[str, tuple[list[dict], list[dict], str, str]] = {}
    for task in s.scalars(select(Task).where(Task.execution_id == execution_id).order_by(Task.id)):
        p = json.loads(task.params or "{}")
        local = p.get("dst_repository" if pull else "repository") or ""
        remote_repo = p.get("repository" if pull else "dst_repository") or ""
        project = local.split("/", 1)[0]
        ok, failed, _, _ = by_project.setdefault(
            project, ([], [], project, remote_repo.rsplit("/", 1)[0] if "/" in remote_repo else "")
        )
        info = {
            "type": p.get("resource_type", "image"),
            "status": JOB_STATUSES.get(task.status, task.status),
            "name_tag": p.get("dst_resource" if pull else "src_resource", ""),
        }
        if task.status == st.SUCCESS:
            ok.append(info)
        else:
            failed.append({**info, "fail_reason": task.status_message or ""})
    projects: dict[str, int] = {
        name: project_id
        for name, project_id in s.execute(
            select(Project.name, Project.id).where(Project.name.in_(list(by_project)))
        )
    }
    events = []
    for name, (ok, failed, local_ns, remote_ns) in by_project.items():
        if name not in projects:
            continue
        here = _resource(None, hostname, local_ns)
        there = _resource(remote, hostname, remote_ns)
        replication: dict[str, Any] = {
            "harbor_hostname": hostname,
            "job_status": JOB_STATUSES[status],
            "description": policy.description,
            "artifact_type": (ok or failed)[0]["type"] if ok or failed else "image",
            "authentication_type": (remote.credential_type if remote else "") or "basic",
            "override_mode": bool(policy.override),
            "trigger_type": TRIGGERS.get(execution.trigger, execution.trigger.lower()),
            "execution_timestamp": int(execution.start_time.timestamp()),
            "src_resource": there if pull else here,
            "dest_resource": here if pull else there,
        }
        if ok:
            replication["successful_artifact"] = ok
        if failed:
            replication["failed_artifact"] = failed
        events.append(
            (
                projects[name],
                {
                    "type": "REPLICATION",
                    "occur_at": int((execution.end_time or execution.update_time).timestamp()),
                    "operator": execution.trigger,
                    "event_data": {"replication": replication},
                },
            )
        )
    return events
