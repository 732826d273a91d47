"""harborapi (unchanged) drives tag retention: metadata, a policy bound to a project through
``retention_id``, a dry run, its tasks and log, then the policy's deletion."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from harborapi import HarborAsyncClient
from harborapi.models import (
    ProjectReq,
    RetentionPolicy,
    RetentionPolicyScope,
    RetentionRule,
    RetentionRuleTrigger,
    RetentionSelector,
)

from tests.support.push import Pusher
from tests.support.servers import ADMIN_PASSWORD

pytestmark = pytest.mark.e2e


def test_retention_policy_with_harborapi(sqlite_server):
    name = f"ret-{uuid.uuid4().hex[:8]}"

    async def scenario():
        client = HarborAsyncClient(
            url=f"{sqlite_server.url}/api/v2.0", username="admin", secret=ADMIN_PASSWORD
        )
        meta = await client.get_retention_metadata()
        assert "latestPushedK" in [t.rule_template for t in meta.templates]
        await client.create_project(ProjectReq(project_name=name, metadata={"public": "false"}))
        project = await client.get_project(name)
        Pusher(sqlite_server.url).image(f"{name}/app", "v1")
        policy = RetentionPolicy(
            algorithm="or",
            rules=[
                RetentionRule(
                    disabled=False,
                    action="retain",
                    template="latestPushedK",
                    params={"latestPushedK": 5},
                    tag_selectors=[
                        RetentionSelector(
                            kind="doublestar",
                            decoration="matches",
                            pattern="**",
                            extras='{"untagged":true}',
                        )
                    ],
                    scope_selectors={
                        "repository": [
                            RetentionSelector(
                                kind="doublestar", decoration="repoMatches", pattern="**"
                            )
                        ]
                    },
                )
            ],
            trigger=RetentionRuleTrigger(kind="Schedule", settings={"cron": ""}, references={}),
            scope=RetentionPolicyScope(level="project", ref=project.project_id),
        )
        await client.create_retention_policy(policy)
        policy_id = await client.get_project_retention_id(name)
        got = await client.get_retention_policy(policy_id)
        assert got.rules[0].params == {"latestPushedK": 5}
        assert got.scope.ref == project.project_id
        got.rules[0].params = {"latestPushedK": 1}
        await client.update_retention_policy(policy_id, got)
        assert (await client.get_retention_policy(policy_id)).rules[0].params == {
            "latestPushedK": 1
        }
        await client.start_retention_execution(policy_id, dry_run=True)
        for _ in range(150):
            executions = await client.get_retention_executions(policy_id)
            if executions and executions[0].status == "Success":
                break
            await asyncio.sleep(0.2)
        assert executions[0].status == "Success" and executions[0].dry_run is True
        tasks = await client.get_retention_tasks(policy_id, executions[0].id)
        assert [t.repository for t in tasks] == [f"{name}/app"]
        assert (tasks[0].total, tasks[0].retained) == (1, 1)
        log = await client.get_retention_execution_task_log(
            policy_id, executions[0].id, tasks[0].id
        )
        assert "| v1 |" in log and "RETAIN" in log
        await client.stop_retention_execution(policy_id, executions[0].id)
        await client.delete_retention_policy(policy_id)
        project = await client.get_project(name)
        assert project.metadata.retention_id is None
        await client.delete_repository(name, "app")
        await client.delete_project(name)

    asyncio.run(scenario())
