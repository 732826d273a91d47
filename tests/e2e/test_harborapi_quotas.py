"""harborapi (unchanged) reads and changes project quotas: a project's quota found by its
reference id, its limit raised, the listing sorted by the limit."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from harborapi import HarborAsyncClient
from harborapi.models import ProjectReq, QuotaUpdateReq, ResourceList

from tests.support.servers import ADMIN_PASSWORD

pytestmark = pytest.mark.e2e


def test_quota_found_raised_and_listed(sqlite_server):
    async def scenario():
        client = HarborAsyncClient(
            url=f"{sqlite_server.url}/api/v2.0", username="admin", secret=ADMIN_PASSWORD
        )
        name = f"hq-{uuid.uuid4().hex[:8]}"
        await client.create_project(ProjectReq(project_name=name, storage_limit=1024 * 1024))
        project = await client.get_project(name)
        quotas = await client.get_quotas(reference="project", reference_id=str(project.project_id))
        assert len(quotas) == 1
        quota = quotas[0]
        assert quota.hard.root["storage"] == 1024 * 1024 and quota.used.root["storage"] == 0
        assert quota.ref.root["name"] == name

        await client.update_quota(quota.id, QuotaUpdateReq(hard=ResourceList({"storage": 5 << 20})))
        assert (await client.get_quota(quota.id)).hard.root["storage"] == 5 << 20

        listed = await client.get_quotas(sort="-hard.storage", limit=100)
        limits = [q.hard.root["storage"] for q in listed]
        assert quota.id in [q.id for q in listed]
        assert [x for x in limits if x != -1] == sorted(
            (x for x in limits if x != -1), reverse=True
        )
        await client.delete_project(name)

    asyncio.run(scenario())
