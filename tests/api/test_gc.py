"""Harbor's garbage collection (``/system/gc…``) on the job service: a manual run frees the
blobs and manifests of deleted images (and gives the quota back), dry run, delete_untagged,
history, log, the schedule, stop, system admins only. The content a test wants collected is
made older than the time window in the database (no sleeping through a window)."""

from __future__ import annotations

import datetime as dt
import json
import os
import time

import pytest
from sqlalchemy import select, update

from harbor_api.db.models import Artifact, Blob, Project, Quota, Schedule
from tests.conftest import unique
from tests.support.jobs import server_database
from tests.support.oci import RegistryClient, sha256
from tests.support.servers import ADMIN_PASSWORD

pytestmark = pytest.mark.api


@pytest.fixture
def registry(server):
    with RegistryClient(server.url, ("admin", ADMIN_PASSWORD)) as client:
        yield client


@pytest.fixture
def project(admin_client):
    name = unique("gc")
    assert admin_client.post("/projects", json={"project_name": name}).status_code == 201
    return name


def _age(server, digests: set[str], hours: int = 3) -> None:
    """As if ``digests`` (blobs, and artifacts of those digests) were last used long ago."""
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)
    with server_database(server) as db, db.transaction() as s:
        s.execute(
            update(Blob).where(Blob.digest.in_(digests)).values(touched_at=past, creation_time=past)
        )
        s.execute(update(Artifact).where(Artifact.digest.in_(digests)).values(push_time=past))


def _stored(server, digests: set[str]) -> set[str]:
    with server_database(server) as db, db.read() as s:
        return set(s.scalars(select(Blob.digest).where(Blob.digest.in_(digests))))


def _used(server, project: str) -> int:
    with server_database(server) as db, db.read() as s:
        return s.scalar(
            select(Quota.used)
            .join(Project, Project.id == Quota.project_id)
            .where(Project.name == project)
        )


def _run(admin_client, parameters: dict) -> dict:
    r = admin_client.post(
        "/system/gc/schedule", json={"schedule": {"type": "Manual"}, "parameters": parameters}
    )
    assert r.status_code == 201, r.text
    gc_id = int(r.headers["Location"].rsplit("/", 1)[1])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job = admin_client.get(f"/system/gc/{gc_id}").json()
        if job["job_status"] in ("Succeed", "Failed", "Stopped"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"gc {gc_id} still {job}")


def _image(registry, name: str, tag: str) -> tuple[str, set[str]]:
    layer, config = os.urandom(2048), json.dumps({"os": "linux", "n": unique()}).encode()
    digest, _ = registry.push_image(name, tag, layers=(layer,), config=config)
    return digest, {digest, sha256(layer), sha256(config)}


def test_a_manual_run_frees_a_deleted_image_and_gives_the_quota_back(
    server, admin_client, registry, project
):
    name = f"{project}/app"
    kept, kept_digests = _image(registry, name, "kept")
    gone, gone_digests = _image(registry, name, "gone")
    before = _used(server, project)
    assert registry.delete(f"/v2/{name}/manifests/{gone}").status_code == 202
    _age(server, gone_digests | kept_digests)
    dry = _run(admin_client, {"dry_run": True})
    assert dry["job_status"] == "Succeed" and json.loads(dry["job_parameters"])["dry_run"]
    log = admin_client.get(f"/system/gc/{dry['id']}/log")
    assert log.status_code == 200 and log.headers["Content-Type"].startswith("text/plain")
    assert "would free" in log.text and _stored(server, gone_digests) == gone_digests
    job = _run(admin_client, {"workers": 3})
    assert job["job_status"] == "Succeed" and job["job_kind"] == "MANUAL"
    log = admin_client.get(f"/system/gc/{job['id']}/log").text
    assert "freed up" in log and "manifest(s) deleted" in log
    assert _stored(server, gone_digests) == set()
    for digest in gone_digests - {gone}:
        assert registry.get(f"/v2/{name}/blobs/{digest}").status_code == 404
    r = registry.get(f"/v2/{name}/manifests/{kept}", headers={"Accept": "*/*"})
    assert r.status_code == 200 and sha256(r.content) == kept
    for digest in kept_digests - {kept}:
        assert registry.get(f"/v2/{name}/blobs/{digest}").status_code == 200
    assert _used(server, project) < before


def test_delete_untagged_keeps_tagged_images(server, admin_client, registry, project):
    name = f"{project}/app"
    tagged, tagged_digests = _image(registry, name, "v1")
    untagged, untagged_digests = _image(registry, name, "tmp")
    assert registry.delete(f"/v2/{name}/manifests/tmp").status_code == 202  # the tag only
    _age(server, tagged_digests | untagged_digests)
    job = _run(admin_client, {"delete_untagged": True})
    assert job["job_status"] == "Succeed"
    assert "untagged artifact(s) deleted" in admin_client.get(f"/system/gc/{job['id']}/log").text
    assert registry.head(f"/v2/{name}/manifests/{untagged}").status_code == 404
    assert _stored(server, untagged_digests) == set()
    assert registry.head(f"/v2/{name}/manifests/v1").status_code == 200
    assert _stored(server, tagged_digests) == tagged_digests


def test_recent_content_is_left_alone(server, admin_client, registry, project):
    name = f"{project}/app"
    digest, digests = _image(registry, name, "v1")
    assert registry.delete(f"/v2/{name}/manifests/{digest}").status_code == 202
    job = _run(admin_client, {"delete_untagged": True})  # inside the 2 h window
    assert job["job_status"] == "Succeed" and _stored(server, digests) == digests


def test_history_newest_first_sorted_and_paged(admin_client):
    first = _run(admin_client, {"dry_run": True})
    second = _run(admin_client, {"dry_run": True})
    r = admin_client.get("/system/gc", params={"page_size": 2})
    assert r.status_code == 200 and int(r.headers["X-Total-Count"]) >= 2
    assert [h["id"] for h in r.json()] == [second["id"], first["id"]]
    assert r.json()[0]["job_name"] == "GARBAGE_COLLECTION"
    oldest = admin_client.get("/system/gc", params={"sort": "creation_time", "page_size": 1})
    assert oldest.status_code == 200 and oldest.json()[0]["id"] <= first["id"]
    assert admin_client.get("/system/gc", params={"sort": "name"}).status_code == 400


def test_schedule_lifecycle(admin_client):
    admin_client.put("/system/gc/schedule", json={"schedule": {"type": "None"}})
    assert admin_client.get("/system/gc/schedule").json() == {}
    body = {
        "schedule": {"type": "Custom", "cron": "0 0 3 * * *"},
        "parameters": {"delete_untagged": True, "workers": 2},
    }
    r = admin_client.post("/system/gc/schedule", json=body)
    assert r.status_code == 201, r.text
    assert r.headers["Location"].endswith("/system/gc/schedule")
    assert admin_client.post("/system/gc/schedule", json=body).status_code == 409
    got = admin_client.get("/system/gc/schedule").json()
    assert got["schedule"]["type"] == "Custom" and got["schedule"]["cron"] == "0 0 3 * * *"
    assert got["schedule"]["next_scheduled_time"].endswith("Z")
    assert json.loads(got["job_parameters"]) == {
        "delete_untagged": True,
        "dry_run": False,
        "workers": 2,
    }
    r = admin_client.put("/system/gc/schedule", json={"schedule": {"type": "Weekly"}})
    assert r.status_code == 200, r.text
    got = admin_client.get("/system/gc/schedule").json()["schedule"]
    assert (got["type"], got["cron"]) == ("Weekly", "0 0 0 * * 0")
    assert admin_client.put("/system/gc/schedule", json={"schedule": {"type": "None"}}).ok
    assert admin_client.get("/system/gc/schedule").json() == {}


def test_a_scheduled_run_shows_in_the_history(server, admin_client):
    r = admin_client.put(
        "/system/gc/schedule",
        json={"schedule": {"type": "Hourly"}, "parameters": {"dry_run": True}},
    )
    assert r.status_code == 200, r.text
    try:
        with server_database(server) as db, db.transaction() as s:  # due now
            s.execute(
                update(Schedule)
                .where(Schedule.vendor_type == "GARBAGE_COLLECTION")
                .values(next_fire_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            runs = [
                h
                for h in admin_client.get("/system/gc").json()
                if h["job_kind"] == "SCHEDULE" and h["job_status"] == "Succeed"
            ]
            if runs:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the scheduled gc did not run")
        assert json.loads(runs[0]["job_parameters"])["dry_run"] is True
    finally:
        admin_client.put("/system/gc/schedule", json={"schedule": {"type": "None"}})


@pytest.mark.parametrize(
    "body",
    [
        {"schedule": {"type": "Custom", "cron": "* * * * *"}},  # five fields
        {"schedule": {"type": "Sometimes"}},
        {"schedule": {"type": "Manual"}, "parameters": {"workers": 0}},
        {"schedule": {"type": "Manual"}, "parameters": {"workers": 6}},
        {"schedule": {"type": "Manual"}, "parameters": {"workers": "two"}},
        {"schedule": {"type": "Manual"}, "parameters": {"dry_run": "yes"}},
        {"schedule": {"type": "Manual"}, "parameters": {"delete_untagged": 1}},
        {"schedule": {"type": "None"}},
    ],
)
def test_bad_requests(admin_client, body):
    r = admin_client.post("/system/gc/schedule", json=body)
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "BAD_REQUEST", r.text


def test_missing_and_stop(admin_client):
    for path in ("/system/gc/999999999", "/system/gc/999999999/log", "/system/gc/2147483648"):
        r = admin_client.get(path)
        assert r.status_code == 404 and r.json()["errors"][0]["code"] == "NOT_FOUND"
    assert admin_client.put("/system/gc/999999999").status_code == 404
    job = _run(admin_client, {"dry_run": True})
    assert admin_client.put(f"/system/gc/{job['id']}").status_code == 200
    assert admin_client.get(f"/system/gc/{job['id']}").json()["job_status"] == "Succeed"


ENDPOINTS = [
    ("GET", "/system/gc", None),
    ("GET", "/system/gc/1", None),
    ("GET", "/system/gc/1/log", None),
    ("PUT", "/system/gc/1", None),
    ("GET", "/system/gc/schedule", None),
    ("POST", "/system/gc/schedule", {"schedule": {"type": "Manual"}}),
    ("PUT", "/system/gc/schedule", {"schedule": {"type": "None"}}),
]


@pytest.mark.parametrize("method, path, body", ENDPOINTS)
def test_system_admins_only(anon_client, new_user, method, path, body):
    assert anon_client.request(method, path, json=body).status_code == 401
    _, _, _, user = new_user()
    r = user.request(method, path, json=body)
    assert r.status_code == 403 and r.json()["errors"][0]["code"] == "FORBIDDEN"
