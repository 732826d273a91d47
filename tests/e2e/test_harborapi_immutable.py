"""harborapi (unchanged) creates, lists, disables and deletes immutable tag rules, and sees
``immutable`` on the tags a rule protects."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from harborapi import HarborAsyncClient
from harborapi.models import ImmutableRule, ImmutableSelector, ProjectReq

from tests.support.push import Pusher
from tests.support.servers import ADMIN_PASSWORD

pytestmark = pytest.mark.e2e


def test_immutable_rules_through_harborapi(sqlite_server):
    project = f"immu-hapi-{uuid.uuid4().hex[:8]}"

    async def scenario():
        client = HarborAsyncClient(
            url=f"{sqlite_server.url}/api/v2.0", username="admin", secret=ADMIN_PASSWORD
        )
        await client.create_project(ProjectReq(project_name=project))
        rule = ImmutableRule(
            action="immutable",
            template="immutable_template",
            tag_selectors=[
                ImmutableSelector(kind="doublestar", decoration="matches", pattern="v*")
            ],
            scope_selectors={
                "repository": [
                    ImmutableSelector(kind="doublestar", decoration="repoMatches", pattern="**")
                ]
            },
        )
        location = await client.create_project_immutable_tag_rule(project, rule)
        rule_id = int(location.rsplit("/", 1)[1])
        project_id = (await client.get_project(project)).project_id
        for ref in (project, project_id):  # by name and by id (X-Is-Resource-Name)
            [got] = await client.get_project_immutable_tag_rules(ref)
            assert got.id == rule_id and got.disabled is False
            assert got.tag_selectors[0].pattern == "v*"
            assert got.scope_selectors["repository"][0].decoration == "repoMatches"
        await asyncio.to_thread(Pusher(sqlite_server.url).image, f"{project}/app", "v1")
        [tag] = await client.get_artifact_tags(project, "app", "v1", with_immutable_status=True)
        assert tag.name == "v1" and tag.immutable is True
        await client.enable_project_immutable_tagrule(project, rule_id, enabled=False)
        [got] = await client.get_project_immutable_tag_rules(project)
        assert got.disabled is True
        await client.delete_project_immutable_tag_rule(project, rule_id)
        assert await client.get_project_immutable_tag_rules(project) == []

    asyncio.run(scenario())
