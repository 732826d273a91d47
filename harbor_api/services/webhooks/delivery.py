"""Delivering one event to one target: the ``WEBHOOK`` (http) and ``SLACK`` job types.

The task's parameters say which policy and target (its index and address: the auth header
is read from the policy at delivery, never copied into the task, whose parameters the API
shows). A policy deleted or disabled, or a target removed, since the event: nothing is sent.
A response outside 2xx, a timeout or a refused connection fails the run: the job service
retries it with backoff, then marks the task failed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from harbor_api.db.models import WebhookPolicy
from harbor_api.jobs.types import JobType, register
from harbor_api.services.webhooks import catalog, payloads

DEFAULT_TIMEOUT_SECONDS = 10.0


class DeliveryError(RuntimeError):
    """The receiver did not take the event (status outside 2xx)."""


@dataclass(frozen=True)
class _Policy:
    id: int
    name: str


def _target(ctx: Any) -> tuple[_Policy, dict[str, Any]] | None:
    params = ctx.params
    with ctx.db.read() as s:
        row = s.get(WebhookPolicy, int(params["policy_id"]))
        if row is None or not row.enabled:
            ctx.log(f"policy {params['policy_id']} is gone or disabled: nothing sent")
            return None
        policy, targets = _Policy(row.id, row.name), json.loads(row.targets or "[]")
    index = int(params.get("target_index", -1))
    if 0 <= index < len(targets) and targets[index]["address"] == params["address"]:
        return policy, targets[index]
    for target in targets:
        if target["address"] == params["address"]:
            return policy, target
    ctx.log(f"target {params['address']} is no longer in policy {policy.name}: nothing sent")
    return None


def deliver(ctx: Any) -> None:
    found = _target(ctx)
    if found is None:
        return
    policy, target = found
    params = ctx.params
    body = payloads.body_for(
        target,
        params["payload"],
        int(params["project_id"]),
        policy.id,
        params.get("request_id") or "",
    )
    headers = {"Content-Type": body.content_type}
    if target.get("type") == catalog.HTTP and target.get("auth_header"):
        headers["Authorization"] = target["auth_header"]
    timeout = float(
        getattr(ctx.settings, "webhook_delivery_timeout_seconds", DEFAULT_TIMEOUT_SECONDS)
    )
    ctx.log(
        f"sending {params['event_type']} of policy {policy.name} to {target['address']} "
        f"({target['type']}, {target.get('payload_format') or 'Slack'}, "
        f"timeout {timeout:g} s, verify certificate: {not target.get('skip_cert_verify')})"
    )
    with httpx.Client(verify=not target.get("skip_cert_verify"), timeout=timeout) as client:
        response = client.post(target["address"], content=body.text.encode(), headers=headers)
    ctx.log(f"the receiver answered {response.status_code}")
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"the receiver answered {response.status_code}")


for _name, _what in (
    ("WEBHOOK", "http target: POST the Default or CloudEvents payload with its auth header"),
    ("SLACK", "slack target: POST Harbor's Slack message"),
):
    register(
        JobType(
            _name,
            deliver,
            f"Deliver one webhook event to one {_what} (2xx is delivered).",
            max_retries=3,
            backoff_seconds=5.0,
            max_backoff_seconds=60.0,
        )
    )
