"""harborapi (unchanged) drives garbage collection: schedule, a manual run, history, one
run, its log."""

from __future__ import annotations

import asyncio

import pytest
from harborapi import HarborAsyncClient
from harborapi.models import Schedule, ScheduleObj

from tests.support.servers import ADMIN_PASSWORD

pytestmark = pytest.mark.e2e


def test_gc_schedule_history_and_log(sqlite_server):
    async def scenario():
        client = HarborAsyncClient(
            url=f"{sqlite_server.url}/api/v2.0", username="admin", secret=ADMIN_PASSWORD
        )
        await client.update_gc_schedule(Schedule(schedule=ScheduleObj(type="None")))
        assert (await client.get_gc_schedule()).schedule is None
        await client.create_gc_schedule(
            Schedule(
                parameters={"delete_untagged": True, "workers": 2},
                schedule=ScheduleObj(type="Weekly"),
            )
        )
        got = await client.get_gc_schedule()
        assert got.schedule.type.value == "Weekly" and got.schedule.cron == "0 0 0 * * 0"
        location = await client.create_gc_schedule(
            Schedule(parameters={"dry_run": True}, schedule=ScheduleObj(type="Manual"))
        )
        gc_id = int(location.rsplit("/", 1)[1])
        for _ in range(150):
            job = await client.get_gc_job(gc_id)
            if job.job_status == "Succeed":
                break
            await asyncio.sleep(0.2)
        assert job.job_status == "Succeed" and job.job_kind == "MANUAL"
        log = await client.get_gc_log(gc_id, as_list=False)
        assert "eligible for deletion" in log and "would free up" in log
        history = await client.get_gc_jobs(sort="-creation_time", limit=20)
        assert gc_id in [h.id for h in history]
        assert history[0].job_name == "GARBAGE_COLLECTION"
        await client.update_gc_schedule(Schedule(schedule=ScheduleObj(type="None")))

    asyncio.run(scenario())
