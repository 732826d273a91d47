"""harborapi (unchanged, from PyPI) manages a project's webhook policies; a push is then
delivered to a loopback receiver in the policy's CloudEvents format."""

from __future__ import annotations

import asyncio

import pytest
from harborapi import HarborAsyncClient
from harborapi.models import ProjectReq, WebhookPolicy, WebhookTargetObject

from tests.conftest import unique
from tests.support.push import Pusher
from tests.support.servers import ADMIN_PASSWORD
from tests.support.webhook_receiver import Receiver

pytestmark = pytest.mark.e2e


def _value(item) -> str:
    """harborapi wraps some strings in root models (EventType, PayloadFormatType)."""
    return getattr(item, "root", item)


def test_webhook_policies_through_harborapi(sqlite_server):
    project = unique("hooks")

    async def scenario(receiver: Receiver):
        client = HarborAsyncClient(
            url=f"{sqlite_server.url}/api/v2.0", username="admin", secret=ADMIN_PASSWORD
        )
        await client.create_project(ProjectReq(project_name=project, public=False))
        supported = await client.get_webhook_supported_events(project)
        assert "PUSH_ARTIFACT" in [_value(e) for e in supported.event_type]
        location = await client.create_webhook_policy(
            project,
            WebhookPolicy(
                name="ci",
                enabled=True,
                event_types=["PUSH_ARTIFACT", "DELETE_ARTIFACT"],
                targets=[
                    WebhookTargetObject(
                        type="http",
                        address=f"{receiver.url}/ce",
                        auth_header="Bearer e2e",
                        payload_format="CloudEvents",
                    )
                ],
            ),
        )
        policy_id = int(location.rsplit("/", 1)[1])
        policy = await client.get_webhook_policy(project, policy_id)
        assert policy.name == "ci" and policy.enabled is True
        assert _value(policy.targets[0].payload_format) == "CloudEvents"
        assert [p.id for p in await client.get_webhook_policies(project)] == [policy_id]
        triggers = await client.get_webhook_policy_last_trigger(project)
        assert {_value(t.event_type) for t in triggers} == {"PUSH_ARTIFACT", "DELETE_ARTIFACT"}

        pushed = await asyncio.to_thread(Pusher(sqlite_server.url).image, f"{project}/app", "v1")
        delivery = (await asyncio.to_thread(receiver.wait_for, 1))[0]
        assert delivery.headers["authorization"] == "Bearer e2e"
        body = delivery.json()
        assert body["type"] == "harbor.artifact.pushed"
        assert body["data"]["resources"][0]["digest"] == pushed.digest

        policy.description = "renamed"
        policy.name = "ci-2"
        await client.update_webhook_policy(project, policy_id, policy)
        assert (await client.get_webhook_policy(project, policy_id)).name == "ci-2"
        triggers = await client.get_webhook_policy_last_trigger(project)
        pushed_trigger = [t for t in triggers if _value(t.event_type) == "PUSH_ARTIFACT"][0]
        assert pushed_trigger.last_trigger_time is not None
        await client.delete_webhook_policy(project, policy_id)
        assert await client.get_webhook_policies(project) == []
        await client.delete_artifact(project, "app", pushed.digest)
        await client.delete_repository(project, "app")
        await client.delete_project(project)

    with Receiver() as receiver:
        asyncio.run(scenario(receiver))
