"""Harbor's job service monitor and schedules API, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from harbor_api.jobs import schedules
from tests.support.jobs import server_database, start_execution, tasks_of, wait_for_status

pytestmark = pytest.mark.api

ENDPOINTS = [
    ("GET", "/jobservice/pools", None),
    ("GET", "/jobservice/pools/all/workers", None),
    ("GET", "/jobservice/queues", None),
    ("PUT", "/jobservice/queues/all", {"action": "resume"}),
    ("PUT", "/jobservice/jobs/1", {"action": "stop"}),
    ("GET", "/jobservice/jobs/1/log", None),
    ("GET", "/schedules", None),
    ("GET", "/schedules/all/paused", None),
]


@pytest.mark.parametrize("method, path, body", ENDPOINTS)
def test_system_admins_only(anon_client, new_user, method, path, body):
    assert anon_client.request(method, path, json=body).status_code == 401
    _, _, _, user = new_user()
    r = user.request(method, path, json=body)
    assert r.status_code == 403 and r.json()["errors"][0]["code"] == "FORBIDDEN"


def test_pools_and_workers_show_the_server_processes(admin_client):
    pools = admin_client.get("/jobservice/pools").json()
    assert pools and all(p["concurrency"] == 2 and p["pid"] > 0 for p in pools)
    pool_id = pools[0]["worker_pool_id"]
    workers = admin_client.get(f"/jobservice/pools/{pool_id}/workers").json()
    assert len(workers) == 2 and {w["pool_id"] for w in workers} == {pool_id}
    everyone = admin_client.get("/jobservice/pools/all/workers").json()
    assert len(everyone) >= 2
    r = admin_client.get("/jobservice/pools/no-such-pool/workers")
    assert r.status_code == 404 and r.json()["errors"][0]["code"] == "NOT_FOUND"


def test_a_job_runs_and_its_log_is_readable(server, admin_client):
    with server_database(server) as db:
        eid = start_execution(
            db, "AUDIT_LOGS_GC", {"audit_retention_hour": 100000, "dry_run": True}, "AUDIT_LOGS_GC"
        )
        assert wait_for_status(db, eid, {"success"}) == "success"
        task_id = tasks_of(db, eid)[0]["id"]
    r = admin_client.get(f"/jobservice/jobs/{task_id}/log")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    assert "dry run:" in r.text and "run 1 of AUDIT_LOGS_GC" in r.text
    for missing in ("999999999", "abc"):
        r = admin_client.get(f"/jobservice/jobs/{missing}/log")
        assert r.status_code == 404 and r.json()["errors"][0]["code"] == "NOT_FOUND"
        assert (
            admin_client.put(f"/jobservice/jobs/{missing}", json={"action": "stop"}).status_code
            == 404
        )
    r = admin_client.put(f"/jobservice/jobs/{task_id}", json={"action": "pause"})
    assert r.status_code == 400


def test_pause_resume_and_stop_a_queue(server, admin_client):
    queues = {q["job_type"]: q for q in admin_client.get("/jobservice/queues").json()}
    assert queues["AUDIT_LOGS_GC"]["paused"] is False
    r = admin_client.put("/jobservice/queues/AUDIT_LOGS_GC", json={"action": "pause"})
    assert r.status_code == 200, r.text
    try:
        assert admin_client.get("/schedules/AUDIT_LOGS_GC/paused").json() == {"paused": True}
        with server_database(server) as db:
            eid = start_execution(
                db,
                "AUDIT_LOGS_GC",
                {"audit_retention_hour": 100000, "dry_run": True},
                "AUDIT_LOGS_GC",
            )
            queues = {q["job_type"]: q for q in admin_client.get("/jobservice/queues").json()}
            assert queues["AUDIT_LOGS_GC"] == {
                "job_type": "AUDIT_LOGS_GC",
                "count": 1,
                "latency": queues["AUDIT_LOGS_GC"]["latency"],
                "paused": True,
            }
            assert tasks_of(db, eid)[0]["status"] == "pending"  # held back while paused
            r = admin_client.put("/jobservice/queues/AUDIT_LOGS_GC", json={"action": "stop"})
            assert r.status_code == 200
            assert wait_for_status(db, eid, {"stopped"}) == "stopped"
    finally:
        admin_client.put("/jobservice/queues/AUDIT_LOGS_GC", json={"action": "resume"})
    assert admin_client.get("/schedules/AUDIT_LOGS_GC/paused").json() == {"paused": False}
    assert admin_client.get("/schedules/all/paused").json() == {"paused": False}
    r = admin_client.put("/jobservice/queues/NO_SUCH_JOB", json={"action": "pause"})
    assert r.status_code == 404
    assert admin_client.get("/schedules/NO_SUCH_JOB/paused").status_code == 404
    assert admin_client.put("/jobservice/queues/all", json={"action": "jump"}).status_code == 400


def test_schedules_are_listed_and_fire(server, admin_client):
    with server_database(server) as db:
        with db.transaction() as s:
            schedules.set_schedule(
                s,
                "AUDIT_LOGS_GC",
                "AUDIT_LOGS_GC",
                "* * * * * *",
                vendor_id=4242,
                params={"audit_retention_hour": 100000, "dry_run": True},
                extra_attrs={"audit_retention_hour": 100000},
            )
        try:
            r = admin_client.get("/schedules", params={"page_size": 100})
            assert r.status_code == 200 and int(r.headers["X-Total-Count"]) >= 1
            mine = [x for x in r.json() if x["vendor_id"] == 4242]
            assert mine and mine[0]["cron"] == "* * * * * *"
            assert mine[0]["extra_attrs"] == {"audit_retention_hour": 100000}
            import time

            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                with db.read() as s:
                    fired = schedules.executions_of(s, "AUDIT_LOGS_GC", 4242)
                    if fired and fired[0].status == "success":
                        assert fired[0].trigger == "SCHEDULE"
                        break
                time.sleep(0.2)
            else:
                raise AssertionError("the schedule did not fire")
        finally:
            with db.transaction() as s:
                schedules.delete_schedule(s, "AUDIT_LOGS_GC", 4242)
