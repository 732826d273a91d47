"""harborapi (unchanged) drives the audit log purge and the system CVE allowlist."""

from __future__ import annotations

import asyncio

import pytest
from harborapi import HarborAsyncClient
from harborapi.models import CVEAllowlist, CVEAllowlistItem, Schedule, ScheduleObj

from tests.support.servers import ADMIN_PASSWORD

pytestmark = pytest.mark.e2e


def _client(server) -> HarborAsyncClient:
    return HarborAsyncClient(url=f"{server.url}/api/v2.0", username="admin", secret=ADMIN_PASSWORD)


def test_purge_schedule_history_and_log(sqlite_server):
    async def scenario():
        client = _client(sqlite_server)
        await client.update_purge_job_schedule(Schedule(schedule=ScheduleObj(type="None")))
        assert (await client.get_purge_job_schedule()).schedule is None
        await client.create_purge_job_schedule(
            Schedule(
                parameters={
                    "audit_retention_hour": 168,
                    "dry_run": True,
                    "include_operations": "create,delete,pull",
                },
                schedule=ScheduleObj(type="Daily"),
            )
        )
        got = await client.get_purge_job_schedule()
        assert got.schedule.type.value == "Daily" and got.schedule.cron == "0 0 0 * * *"
        location = await client.create_purge_job_schedule(
            Schedule(
                parameters={"audit_retention_hour": 168, "dry_run": True},
                schedule=ScheduleObj(type="Manual"),
            )
        )
        purge_id = int(location.rsplit("/", 1)[1])
        for _ in range(150):
            job = await client.get_purge_job(purge_id)
            if job.job_status == "Succeed":
                break
            await asyncio.sleep(0.2)
        assert job.job_status == "Succeed" and job.job_kind == "MANUAL"
        assert "dry run:" in await client.get_purge_job_log(purge_id)
        history = await client.get_purge_job_history()
        assert purge_id in [h.id for h in history]
        await client.stop_purge_job(purge_id)
        await client.update_purge_job_schedule(Schedule(schedule=ScheduleObj(type="None")))

    asyncio.run(scenario())


def test_system_cve_allowlist(sqlite_server):
    async def scenario():
        client = _client(sqlite_server)
        await client.update_cve_allowlist(
            CVEAllowlist(items=[CVEAllowlistItem(cve_id="CVE-2021-44228")], expires_at=1893456000)
        )
        got = await client.get_cve_allowlist()
        assert got.project_id == 0 and got.expires_at == 1893456000
        assert [i.cve_id for i in got.items] == ["CVE-2021-44228"]

    asyncio.run(scenario())
