"""The audit log: system-wide (system admin), per project, filters, paging, retention."""

import datetime as dt
import time

import pytest

from tests.conftest import unique

pytestmark = pytest.mark.api


def _make_entries(admin_client, n):
    names = []
    for _ in range(n):
        name = unique("audit")
        r = admin_client.post("/labels", json={"name": name, "scope": "g"})
        assert r.status_code == 201
        names.append(name)
    return names


def test_list_filters_and_paging(admin_client):
    names = _make_entries(admin_client, 3)
    prefix = names[0][:6]  # "audit-"
    r = admin_client.get(
        "/audit-logs", params={"q": f"resource=~{prefix},operation=create", "page_size": 2}
    )
    assert r.status_code == 200
    assert int(r.headers["X-Total-Count"]) >= 3 and 'rel="next"' in r.headers["Link"]
    entries = r.json()
    assert len(entries) == 2
    assert {"id", "username", "resource", "resource_type", "operation", "op_time"} <= set(
        entries[0]
    )
    assert entries[0]["op_time"] >= entries[1]["op_time"]  # newest first
    exact = admin_client.get("/audit-logs", params={"q": f"resource={names[1]}"}).json()
    assert [(e["resource"], e["username"], e["resource_type"]) for e in exact] == [
        (names[1], "admin", "label")
    ]
    anyof = admin_client.get("/audit-logs", params={"q": f"resource={{{names[0]} {names[2]}}}"})
    assert {e["resource"] for e in anyof.json()} == {names[0], names[2]}


def test_op_time_range(admin_client):
    [name] = _make_entries(admin_client, 1)
    now = dt.datetime.now(dt.UTC)
    fmt = "%Y-%m-%d %H:%M:%S"
    low, high = now - dt.timedelta(minutes=5), now + dt.timedelta(minutes=5)
    window = f"[{low.strftime(fmt)}~{high.strftime(fmt)}]"
    r = admin_client.get("/audit-logs", params={"q": f"resource={name},op_time={window}"})
    assert [e["resource"] for e in r.json()] == [name]
    past = "[2000-01-01 00:00:00~2000-01-02 00:00:00]"
    assert (
        admin_client.get("/audit-logs", params={"q": f"resource={name},op_time={past}"}).json()
        == []
    )
    assert admin_client.get("/audit-logs", params={"q": "op_time=[x~y]"}).status_code == 400
    assert admin_client.get("/audit-logs", params={"q": "nope=1"}).status_code == 400
    assert admin_client.get("/audit-logs", params={"sort": "nope"}).status_code == 400


def test_system_log_needs_sysadmin(anon_client, new_user):
    assert anon_client.get("/audit-logs").status_code == 401
    _, _, _, client = new_user()
    assert client.get("/audit-logs").status_code == 403


def test_project_logs(admin_client, project, new_user):
    pid = admin_client.get(f"/projects/{project}", headers={"X-Is-Resource-Name": "true"}).json()[
        "project_id"
    ]
    name = unique("plabel")
    admin_client.post("/labels", json={"name": name, "scope": "p", "project_id": pid})
    r = admin_client.get(
        f"/projects/{project}/logs", params={"q": f"resource_type=label,resource=~{name[:8]}"}
    )
    assert r.status_code == 200 and [e["resource"] for e in r.json()] == [name]
    assert admin_client.get("/projects/no-such-project-x/logs").status_code == 404
    _, _, _, outsider = new_user()
    assert outsider.get(f"/projects/{project}/logs").status_code == 404


def test_retention_purges_old_entries(tmp_path):
    """In-process: the purge deletes what is older than the configured window."""

    from sqlalchemy import func, select

    from harbor_api.db.migrate import upgrade
    from harbor_api.db.models import AuditLog
    from harbor_api.db.session import Database
    from harbor_api.services import audit_logs, configurations

    db = Database(f"sqlite:///{tmp_path / 'r.db'}")
    upgrade(db.engine)
    now = dt.datetime.now(dt.UTC)
    with db.transaction() as s:
        for hours in (1, 30, 50):
            s.add(
                AuditLog(
                    operation="create",
                    resource_type="label",
                    resource=f"h{hours}",
                    username="admin",
                    op_time=now - dt.timedelta(hours=hours),
                )
            )
    assert audit_logs.maybe_purge(db, force=True) == 0  # retention 0 = keep everything
    configurations.store(db, {"audit_log_retention_hours": 24})
    assert audit_logs.maybe_purge(db, force=True) == 2
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(AuditLog)) == 1
    # the periodic job purges without anyone reading the log
    with db.transaction() as s:
        s.add(
            AuditLog(
                operation="create",
                resource_type="label",
                resource="old",
                username="admin",
                op_time=now - dt.timedelta(hours=40),
            )
        )
    stop = audit_logs.start_retention_job(db, interval=0.05)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with db.read() as s:
                if s.scalar(select(func.count()).select_from(AuditLog)) == 1:
                    break
            time.sleep(0.05)
        with db.read() as s:
            assert s.scalar(select(func.count()).select_from(AuditLog)) == 1
    finally:
        stop.set()
        time.sleep(0.1)
    db.dispose()
