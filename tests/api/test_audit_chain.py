"""The audit log's hash chain (``GET /audit-logs/verify``): valid after normal activity,
an edited or deleted row is named, purges keep it verifiable, concurrent writers keep it
linear. Rows are edited with SQL directly, as an intruder would."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text, update

from harbor_api.db.audit_records import add_record
from harbor_api.db.models import AuditLog
from tests.api.test_audit_purge import _activity, _append, _count, _run
from tests.conftest import unique
from tests.support.jobs import server_database

pytestmark = pytest.mark.api


def _verify(admin_client) -> dict:
    r = admin_client.get("/audit-logs/verify")
    assert r.status_code == 200, r.text
    return r.json()


def _rows_of(server, marker: str) -> list[dict]:
    with server_database(server) as db, db.read() as s:
        return [
            dict(r)
            for r in s.execute(
                select(AuditLog.__table__)
                .where(AuditLog.resource.like(f"%{marker}%"))
                .order_by(AuditLog.id)
            ).mappings()
        ]


def test_valid_after_normal_activity(admin_client):
    _activity(admin_client)
    result = _verify(admin_client)
    assert result["valid"] is True, result
    assert result["checked"] >= 2 and len(result["head_hash"]) == 64


def test_an_edited_row_is_named(server, admin_client):
    name = _activity(admin_client)
    victim = _rows_of(server, name)[0]
    with server_database(server) as db:
        with db.transaction() as s:
            s.execute(
                text("UPDATE audit_logs SET username = 'somebody-else' WHERE id = :id"),
                {"id": victim["id"]},
            )
        try:
            result = _verify(admin_client)
            assert result["valid"] is False and result["first_broken_id"] == victim["id"]
            assert "edited" in result["reason"]
        finally:
            with db.transaction() as s:
                s.execute(
                    update(AuditLog)
                    .where(AuditLog.id == victim["id"])
                    .values(username=victim["username"])
                )
    assert _verify(admin_client)["valid"] is True


def test_a_deleted_row_is_detected(server, admin_client):
    name = _activity(admin_client)
    first = _rows_of(server, name)[0]
    with server_database(server) as db:
        with db.read() as s:
            # the row after the gap: any writer's (a job or another test may log in between)
            after = s.scalar(
                select(AuditLog.id).where(AuditLog.id > first["id"]).order_by(AuditLog.id).limit(1)
            )
        with db.transaction() as s:
            s.execute(text("DELETE FROM audit_logs WHERE id = :id"), {"id": first["id"]})
        try:
            result = _verify(admin_client)
            assert result["valid"] is False, result
            assert result["first_broken_id"] == after
            assert "missing" in result["reason"]
        finally:
            with db.transaction() as s:
                s.execute(AuditLog.__table__.insert().values(**first))
    assert _verify(admin_client)["valid"] is True


def test_the_newest_rows_deleted_are_detected(server, admin_client):
    with server_database(server) as db:
        with db.transaction() as s:
            add_record(s, "intruder", "create", "project", unique("tail"))
        with db.read() as s:
            newest = dict(
                s.execute(select(AuditLog.__table__).order_by(AuditLog.id.desc()).limit(1))
                .mappings()
                .one()
            )
        with db.transaction() as s:
            s.execute(text("DELETE FROM audit_logs WHERE id = :id"), {"id": newest["id"]})
        try:
            result = _verify(admin_client)
            assert result["valid"] is False and "newest" in result["reason"], result
        finally:
            with db.transaction() as s:
                s.execute(AuditLog.__table__.insert().values(**newest))
    assert _verify(admin_client)["valid"] is True


def test_purges_keep_the_chain_verifiable(server, admin_client):
    marker = unique("gap")
    for operation, hours_ago in [
        ("create", 48),
        ("create", 0),
        ("delete", 48),
        ("create", 48),
        ("pull", 48),
        ("delete", 0),
    ]:
        _append(server, marker, operation, hours_ago)
    job = _run(admin_client, {"audit_retention_hour": 24, "include_operations": "create"})
    assert job["job_status"] == "Succeed"
    assert _count(server, marker, "create") == 1 and _count(server, marker) == 4  # gaps
    assert _verify(admin_client)["valid"] is True
    job = _run(admin_client, {"audit_retention_hour": 24})
    assert job["job_status"] == "Succeed" and _count(server, marker) == 2
    _activity(admin_client)
    assert _verify(admin_client)["valid"] is True


def test_the_newest_rows_purged_keep_the_chain_verifiable(server, admin_client):
    marker = unique("tail")
    _append(server, marker, "create", 1000)  # the newest row, and old enough to go
    job = _run(admin_client, {"audit_retention_hour": 500})
    assert job["job_status"] == "Succeed" and _count(server, marker) == 0
    assert _verify(admin_client)["valid"] is True
    _activity(admin_client)  # the next rows link to the purged newest row
    assert _verify(admin_client)["valid"] is True


def test_concurrent_writers_keep_the_chain_linear(server, admin_client):
    """Threads of this process (each its own connection) and the server's workers at once."""
    marker = unique("race")
    errors: list[BaseException] = []
    with server_database(server) as db:

        def write(n: int) -> None:
            try:
                for i in range(10):
                    with db.transaction() as s:
                        add_record(s, f"writer{n}", "create", "project", f"{marker}-{n}-{i}")
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for _ in range(3):
            _activity(admin_client)
        for t in threads:
            t.join()
    assert not errors, errors
    assert _count(server, marker) == 60
    assert _verify(admin_client)["valid"] is True


def test_verify_is_for_system_admins(anon_client, new_user):
    assert anon_client.get("/audit-logs/verify").status_code == 401
    _, _, _, user = new_user()
    r = user.get("/audit-logs/verify")
    assert r.status_code == 403 and r.json()["errors"][0]["code"] == "FORBIDDEN"
