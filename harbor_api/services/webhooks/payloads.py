"""Harbor's webhook payloads: the ``Default`` JSON (``type``, ``occur_at``, ``operator``,
``event_data``), CloudEvents 1.0 around the same ``event_data``, and the Slack message.

Shapes follow Harbor (``src/pkg/notifier/model``, ``src/pkg/notifier/formats``, the Slack
handler's template); the ``Default`` payload is built once per event, when it is enqueued,
and each target's body is formatted from it at delivery.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from harbor_api.auth import rbac
from harbor_api.db.models import Repository
from harbor_api.services.webhooks import catalog


@dataclass(frozen=True)
class Body:
    content_type: str
    text: str


def _unix(value: dt.datetime | None) -> int:
    if value is None:
        return 0
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return int(value.timestamp())


def registry_host(external_url: str) -> str:
    """``host[:port]`` of the external URL: how Harbor's ``resource_url`` starts."""
    return urlsplit(external_url).netloc or external_url


def artifact_payload(
    s: Session,
    external_url: str,
    event_type: str,
    project_id: int,
    repository: str,
    digest: str,
    tag: str | None,
    operator: str,
) -> dict[str, Any]:
    """The Default payload of a push, pull or delete of ``repository`` (``project/name``)."""
    namespace, _, name = repository.partition("/")
    created = s.scalar(select(Repository.creation_time).where(Repository.name == repository))
    host = registry_host(external_url)
    reference = f":{tag}" if tag else f"@{digest}"
    repo: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "repo_full_name": repository,
        "repo_type": "public" if rbac.is_public(s, project_id) else "private",
    }
    if created is not None:
        repo = {"date_created": _unix(created), **repo}
    resource: dict[str, Any] = {"tag": tag or (digest if event_type != "DELETE_ARTIFACT" else "")}
    if digest:
        resource = {"digest": digest, **resource}
    resource["resource_url"] = f"{host}/{repository}{reference}"
    return {
        "type": event_type,
        "occur_at": int(time.time()),
        "operator": operator,
        "event_data": {"resources": [resource], "repository": repo},
    }


def quota_payload(event_type: str, namespace: str, details: str) -> dict[str, Any]:
    """QUOTA_EXCEED / QUOTA_WARNING: Harbor's ``custom_attributes.Details`` message; the
    repository names the project (the quota event knows no repository here)."""
    return {
        "type": event_type,
        "occur_at": int(time.time()),
        "operator": "",
        "event_data": {
            "repository": {
                "name": "",
                "namespace": namespace,
                "repo_full_name": "",
                "repo_type": "",
            },
            "custom_attributes": {"Details": details},
        },
    }


def default_body(payload: dict[str, Any]) -> Body:
    return Body("application/json", json.dumps(payload))


def cloudevents_body(
    payload: dict[str, Any], project_id: int, policy_id: int, request_id: str
) -> Body:
    """CloudEvents 1.0 (structured mode), as Harbor's formatter writes it."""
    occurred = dt.datetime.fromtimestamp(int(payload.get("occur_at") or 0), dt.UTC)
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "requestid": request_id,
        "source": f"/projects/{project_id}/webhook/policies/{policy_id}",
        "type": catalog.CLOUDEVENTS_TYPES[payload["type"]],
        "datacontenttype": "application/json",
        "time": occurred.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "data": payload.get("event_data"),
        "operator": payload.get("operator", ""),
    }
    return Body("application/cloudevents+json", json.dumps(event))


def slack_body(payload: dict[str, Any]) -> Body:
    """Harbor's Slack blocks: the event type, time, operator, then ``event_data`` as an
    indented JSON code block."""
    data = json.dumps(payload.get("event_data"), indent="\t")

    def section(text: str) -> dict[str, Any]:
        return {"type": "section", "text": {"type": "mrkdwn", "text": text}}

    blocks = [
        section("*Harbor webhook events*"),
        section(f"*event_type:* {payload['type']}"),
        section(
            f"*occur_at:* <!date^{payload['occur_at']}^{{date}} at {{time}}"
            "|February 18th, 2014 at 6:39 AM PST>"
        ),
        section(f"*operator:* {payload.get('operator', '')}"),
        section("*event_data:*"),
        section(f"```{data}```"),
    ]
    return Body("application/json", json.dumps({"blocks": blocks}))


def body_for(
    target: dict[str, Any],
    payload: dict[str, Any],
    project_id: int,
    policy_id: int,
    request_id: str,
) -> Body:
    if target.get("type") == catalog.SLACK:
        return slack_body(payload)
    if target.get("payload_format") == catalog.CLOUDEVENTS_FORMAT:
        return cloudevents_body(payload, project_id, policy_id, request_id)
    return default_body(payload)
