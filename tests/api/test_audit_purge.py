"""Harbor's audit log purge (``/system/purgeaudit…``) on the job service: manual runs with
history, status and log; dry run; by operation; the schedule; stop; system admins only."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from sqlalchemy import func, select, update

from harbor_api.db.audit_records import add_records
from harbor_api.db.models import AuditLog, Schedule
from tests.conftest import unique
from tests.support.jobs import server_database

pytestmark = pytest.mark.api


def _append(server, marker: str, operation: str, hours_ago: int) -> None:
    """An honest old row: written through the chain with an old op_time (editing op_time
    afterwards would be tampering, which ``/audit-logs/verify`` reports)."""
    with server_database(server) as db, db.transaction() as s:
        add_records(
            s,
            [
                {
                    "operation": operation,
                    "resource_type": "project",
                    "resource": f"{marker}-{operation}-{hours_ago}",
                    "username": "admin",
                    "op_time": dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours_ago),
                }
            ],
        )


def _count(server, marker: str, operation: str | None = None) -> int:
    with server_database(server) as db, db.read() as s:
        where = [AuditLog.resource.like(f"%{marker}%")]
        if operation:
            where.append(AuditLog.operation == operation)
        return s.scalar(select(func.count()).select_from(AuditLog).where(*where))


def _run(admin_client, parameters: dict) -> dict:
    r = admin_client.post(
        "/system/purgeaudit/schedule",
        json={"schedule": {"type": "Manual"}, "parameters": parameters},
    )
    assert r.status_code == 201, r.text
    purge_id = int(r.headers["Location"].rsplit("/", 1)[1])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job = admin_client.get(f"/system/purgeaudit/{purge_id}").json()
        if job["job_status"] in ("Succeed", "Failed", "Stopped"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"purge {purge_id} still {job}")


def _activity(admin_client) -> str:
    """Audit rows: a project created then deleted (create + delete entries)."""
    name = unique("purge")
    assert admin_client.post("/projects", json={"project_name": name}).status_code == 201
    assert admin_client.delete(f"/projects/{name}").status_code == 200
    return name


def test_manual_purge_by_operation_with_history_and_log(server, admin_client):
    name = unique("purge")
    _append(server, name, "create", 48)
    _append(server, name, "delete", 48)
    dry = _run(
        admin_client, {"audit_retention_hour": 24, "include_operations": "create", "dry_run": True}
    )
    assert dry["job_status"] == "Succeed" and dry["job_kind"] == "MANUAL"
    assert json.loads(dry["job_parameters"])["dry_run"] is True
    assert _count(server, name) == 2
    log = admin_client.get(f"/system/purgeaudit/{dry['id']}/log")
    assert log.status_code == 200 and log.headers["Content-Type"].startswith("text/plain")
    assert "dry run:" in log.text and "(create)" in log.text
    job = _run(admin_client, {"audit_retention_hour": 24, "include_operations": "create"})
    assert job["job_status"] == "Succeed"
    assert _count(server, name, "create") == 0 and _count(server, name, "delete") == 1
    assert "purged" in admin_client.get(f"/system/purgeaudit/{job['id']}/log").text
    kept = _run(admin_client, {"audit_retention_hour": 72})  # rows are younger: all stay
    assert kept["job_status"] == "Succeed" and _count(server, name, "delete") == 1
    r = admin_client.get("/system/purgeaudit", params={"page_size": 2})
    assert r.status_code == 200 and int(r.headers["X-Total-Count"]) >= 3
    assert [h["id"] for h in r.json()] == [kept["id"], job["id"]]  # newest first


def test_schedule_lifecycle(admin_client):
    admin_client.put("/system/purgeaudit/schedule", json={"schedule": {"type": "None"}})
    assert admin_client.get("/system/purgeaudit/schedule").json() == {}
    body = {
        "schedule": {"type": "Custom", "cron": "0 30 2 * * *"},
        "parameters": {"audit_retention_hour": 168, "include_operations": "pull", "dry_run": False},
    }
    r = admin_client.post("/system/purgeaudit/schedule", json=body)
    assert r.status_code == 201, r.text
    assert admin_client.post("/system/purgeaudit/schedule", json=body).status_code == 409
    got = admin_client.get("/system/purgeaudit/schedule").json()
    assert got["schedule"]["type"] == "Custom" and got["schedule"]["cron"] == "0 30 2 * * *"
    assert got["schedule"]["next_scheduled_time"].endswith("Z")
    assert json.loads(got["job_parameters"])["audit_retention_hour"] == 168
    r = admin_client.put(
        "/system/purgeaudit/schedule", json={"schedule": {"type": "Daily"}, "parameters": {}}
    )
    assert r.status_code == 200, r.text
    got = admin_client.get("/system/purgeaudit/schedule").json()
    assert got["schedule"] == {
        "type": "Daily",
        "cron": "0 0 0 * * *",
        "next_scheduled_time": got["schedule"]["next_scheduled_time"],
    }
    assert (
        admin_client.put(
            "/system/purgeaudit/schedule", json={"schedule": {"type": "None"}}
        ).status_code
        == 200
    )
    assert admin_client.get("/system/purgeaudit/schedule").json() == {}


@pytest.mark.parametrize(
    "body",
    [
        {"schedule": {"type": "Custom", "cron": "* * * * *"}},  # five fields
        {"schedule": {"type": "Sometimes"}},
        {"schedule": {"type": "Manual"}, "parameters": {"audit_retention_hour": -1}},
        {"schedule": {"type": "Manual"}, "parameters": {"audit_retention_hour": "ten"}},
        {"schedule": {"type": "Manual"}, "parameters": {"audit_retention_hour": 2**63}},
        {"schedule": {"type": "Manual"}, "parameters": {"dry_run": "yes"}},
        {"schedule": {"type": "None"}},
    ],
)
def test_bad_requests(admin_client, body):
    r = admin_client.post("/system/purgeaudit/schedule", json=body)
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "BAD_REQUEST", r.text


def test_missing_and_stopped(admin_client):
    for path in (
        "/system/purgeaudit/999999999",
        "/system/purgeaudit/999999999/log",
        "/system/purgeaudit/9223372036854775807",
    ):
        r = admin_client.get(path)
        assert r.status_code == 404 and r.json()["errors"][0]["code"] == "NOT_FOUND"
    assert admin_client.put("/system/purgeaudit/999999999").status_code == 404
    job = _run(admin_client, {"audit_retention_hour": 100000, "dry_run": True})
    assert admin_client.put(f"/system/purgeaudit/{job['id']}").status_code == 200
    assert admin_client.get(f"/system/purgeaudit/{job['id']}").json()["job_status"] == "Succeed"


ENDPOINTS = [
    ("GET", "/system/purgeaudit", None),
    ("GET", "/system/purgeaudit/1", None),
    ("GET", "/system/purgeaudit/1/log", None),
    ("PUT", "/system/purgeaudit/1", None),
    ("GET", "/system/purgeaudit/schedule", None),
    ("POST", "/system/purgeaudit/schedule", {"schedule": {"type": "Manual"}}),
    ("PUT", "/system/purgeaudit/schedule", {"schedule": {"type": "None"}}),
]


@pytest.mark.parametrize("method, path, body", ENDPOINTS)
def test_system_admins_only(anon_client, new_user, method, path, body):
    assert anon_client.request(method, path, json=body).status_code == 401
    _, _, _, user = new_user()
    r = user.request(method, path, json=body)
    assert r.status_code == 403 and r.json()["errors"][0]["code"] == "FORBIDDEN"


def test_a_scheduled_purge_runs_and_shows_in_the_history(server, admin_client):
    marker = unique("sched")
    _append(server, marker, "pull", 48)
    r = admin_client.put(
        "/system/purgeaudit/schedule",
        json={
            "schedule": {"type": "Hourly"},
            "parameters": {"audit_retention_hour": 24, "include_operations": "pull"},
        },
    )
    assert r.status_code == 200, r.text
    try:
        with server_database(server) as db, db.transaction() as s:  # due now
            s.execute(
                update(Schedule)
                .where(Schedule.vendor_type == "PURGE_AUDIT_LOG")
                .values(next_fire_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            runs = [
                h
                for h in admin_client.get("/system/purgeaudit").json()
                if h["job_kind"] == "SCHEDULE" and h["job_status"] == "Succeed"
            ]
            if runs and _count(server, marker) == 0:
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the scheduled purge did not run")
        assert json.loads(runs[0]["job_parameters"])["include_operations"] == "pull"
    finally:
        admin_client.put("/system/purgeaudit/schedule", json={"schedule": {"type": "None"}})
