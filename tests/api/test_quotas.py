"""Project storage quotas: ``storage_limit``, ``/quotas``, the summary's ``quota`` and the
accounting and refusals of pushes through ``/v2`` (Harbor's DENIED with its wording)."""

from __future__ import annotations

import hashlib
import os
import threading
import uuid

import pytest
import requests

from tests.conftest import unique
from tests.support.push import Pusher

QUOTA_WORDS = "will exceed the configured upper limit of"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def make_project(admin_client):
    made = []

    def make(**body):
        name = unique("quota")
        r = admin_client.post("/projects", json={"project_name": name, **body})
        assert r.status_code == 201, r.text
        made.append(name)
        return name

    yield make
    for name in made:
        for repo in admin_client.get(f"/projects/{name}/repositories").json() or []:
            admin_client.delete(
                f"/projects/{name}/repositories/"
                f"{repo['name'].split('/', 1)[1].replace('/', '%252F')}"
            )
        admin_client.delete(f"/projects/{name}", headers={"X-Is-Resource-Name": "true"})


def quota_of(admin_client, project: str) -> dict:
    project_id = admin_client.get(f"/projects/{project}").json()["project_id"]
    found = admin_client.get(
        "/quotas", params={"reference": "project", "reference_id": str(project_id)}
    ).json()
    assert len(found) == 1, found
    return found[0]


def used(admin_client, project: str) -> int:
    return quota_of(admin_client, project)["used"]["storage"]


def session_upload(
    http: requests.Session, base: str, repo: str, data: bytes, cancel: bool = False
) -> requests.Response:
    """POST, one PATCH with Content-Length, PUT ?digest= (skopeo's way); the first refused
    step's response, else the PUT's."""
    r = http.post(f"{base}/v2/{repo}/blobs/uploads/", timeout=60)
    if r.status_code != 202:
        return r
    location = r.headers["Location"]
    url = location if location.startswith("http") else base + location
    r = http.patch(url, data=data, headers={"Content-Type": "application/octet-stream"}, timeout=60)
    if r.status_code != 202:
        return r
    location = r.headers["Location"]
    url = location if location.startswith("http") else base + location
    if cancel:
        return http.delete(url, timeout=60)
    return http.put(url, params={"digest": sha(data)}, timeout=60)


def test_limit_on_create_and_update(admin_client, make_project):
    project = make_project(storage_limit=1024 * 1024)
    assert quota_of(admin_client, project)["hard"] == {"storage": 1024 * 1024}
    r = admin_client.put(
        f"/projects/{project}", json={"storage_limit": 2048}, headers={"X-Is-Resource-Name": "true"}
    )
    assert r.status_code == 200, r.text
    assert quota_of(admin_client, project)["hard"] == {"storage": 2048}
    r = admin_client.put(
        f"/projects/{project}", json={"storage_limit": 0}, headers={"X-Is-Resource-Name": "true"}
    )
    assert r.status_code == 400


def test_default_from_storage_per_project(admin_client, make_project):
    assert (
        admin_client.put("/configurations", json={"storage_per_project": 5000}).status_code == 200
    )
    try:
        project = make_project()
    finally:
        admin_client.put("/configurations", json={"storage_per_project": -1})
    assert quota_of(admin_client, project)["hard"] == {"storage": 5000}
    assert quota_of(admin_client, make_project())["hard"] == {"storage": -1}


def test_unlimited_accepts_any_push(admin_client, make_project, server):
    project = make_project(storage_limit=-1)
    pusher = Pusher(server.url)
    pushed = pusher.image(f"{project}/a", layer=os.urandom(64 * 1024))
    assert used(admin_client, project) == pushed.size


def test_library_has_an_unlimited_quota_that_counts_its_pushes(admin_client, server):
    """``library`` (made at first start) is accounted like every other project."""
    before = admin_client.get("/projects/library/summary").json()["quota"]
    assert before["hard"] == {"storage": -1}
    repo = unique("library/counted")
    pushed = Pusher(server.url).image(repo, layer=os.urandom(32 * 1024))
    try:
        assert used(admin_client, "library") == before["used"]["storage"] + pushed.size
    finally:
        name = repo.split("/", 1)[1]
        assert admin_client.delete(f"/projects/library/repositories/{name}").status_code == 200
    assert used(admin_client, "library") == before["used"]["storage"]


def test_shared_blob_counted_once_and_summary(admin_client, make_project, server):
    project = make_project(storage_limit=10 * 1024 * 1024)
    pusher = Pusher(server.url)
    layer = os.urandom(100 * 1024)
    first = pusher.image(f"{project}/one", layer=layer)
    second = pusher.image(f"{project}/two", layer=layer)
    assert first.config_digest == second.config_digest
    # manifests are identical too: the whole image is counted once
    assert used(admin_client, project) == first.size
    summary = admin_client.get(f"/projects/{project}/summary").json()
    assert summary["quota"] == {
        "hard": {"storage": 10 * 1024 * 1024},
        "used": {"storage": first.size},
    }


def test_push_over_limit_is_denied_with_harbors_words(admin_client, make_project, server):
    project = make_project(storage_limit=64 * 1024)
    http = Pusher(server.url).http
    r = session_upload(http, server.url, f"{project}/big", os.urandom(100 * 1024))
    assert r.status_code == 403, r.text
    error = r.json()["errors"][0]
    assert error["code"] == "DENIED"
    assert error["message"] == (
        "adding 100.0 KiB of storage resource, which when updated to "
        "current usage of 0 B will exceed the configured upper limit "
        "of 64.0 KiB."
    )
    assert quota_of(admin_client, project)["used"]["storage"] == 0
    # what fits still goes
    assert (
        session_upload(http, server.url, f"{project}/big", os.urandom(60 * 1024)).status_code == 201
    )
    assert used(admin_client, project) == 60 * 1024


def test_manifest_put_over_limit_is_denied(admin_client, make_project, server):
    project = make_project(storage_limit=8 * 1024)
    pusher = Pusher(server.url)
    with pytest.raises(AssertionError) as refused:
        pusher.image(f"{project}/m", layer=os.urandom(8 * 1024 - 100))
    assert "DENIED" in str(refused.value) and QUOTA_WORDS in str(refused.value)
    assert used(admin_client, project) <= 8 * 1024


def test_cancelled_push_gives_back_its_reservation(admin_client, make_project, server):
    project = make_project(storage_limit=100 * 1024)
    http = Pusher(server.url).http
    r = session_upload(http, server.url, f"{project}/c", os.urandom(90 * 1024), cancel=True)
    assert r.status_code == 204, r.text
    assert used(admin_client, project) == 0
    # the 90 KiB held by the cancelled session are free again
    assert (
        session_upload(http, server.url, f"{project}/c", os.urandom(90 * 1024)).status_code == 201
    )


def test_delete_gives_usage_back(admin_client, make_project, server):
    project = make_project(storage_limit=10 * 1024 * 1024)
    pusher = Pusher(server.url)
    kept = pusher.image(f"{project}/keep", layer=os.urandom(50 * 1024))
    gone = pusher.image(f"{project}/gone", tag="v1", layer=os.urandom(70 * 1024))
    assert used(admin_client, project) == kept.size + gone.size
    r = admin_client.delete(f"/projects/{project}/repositories/gone/artifacts/{gone.digest}")
    assert r.status_code == 200, r.text
    assert used(admin_client, project) == kept.size
    assert admin_client.delete(f"/projects/{project}/repositories/keep").status_code == 200
    assert used(admin_client, project) == 0


def test_quotas_endpoints_and_permissions(admin_client, make_project, new_user, anon_client):
    project = make_project(storage_limit=4096)
    other = make_project(storage_limit=8192)
    quota = quota_of(admin_client, project)
    assert quota["ref"]["name"] == project and quota["ref"]["owner_name"] == "admin"
    assert admin_client.get(f"/quotas/{quota['id']}").json() == quota
    listed = admin_client.get("/quotas", params={"sort": "-hard.storage", "page_size": 100})
    assert listed.status_code == 200 and int(listed.headers["X-Total-Count"]) >= 2
    hards = [q["hard"]["storage"] for q in listed.json()]
    assert hards == sorted(hards, reverse=True)
    assert admin_client.get("/quotas", params={"reference": "user"}).json() == []
    assert admin_client.get("/quotas", params={"sort": "nope"}).status_code == 400

    user_id, _, _, member = new_user()
    admin_client.post(
        f"/projects/{project}/members", json={"role_id": 3, "member_user": {"user_id": user_id}}
    )
    mine = member.get("/quotas").json()
    assert [q["ref"]["name"] for q in mine] == [project]
    assert member.get(f"/quotas/{quota['id']}").status_code == 200
    other_id = quota_of(admin_client, other)["id"]
    assert member.get(f"/quotas/{other_id}").status_code == 404
    assert member.put(f"/quotas/{quota['id']}", json={"hard": {"storage": 1}}).status_code == 403
    assert member.put(
        f"/projects/{project}", json={"storage_limit": 1}, headers={"X-Is-Resource-Name": "true"}
    ).status_code in (403, 404)
    assert member.get(f"/projects/{project}/summary").json()["quota"]["hard"] == {"storage": 4096}
    assert anon_client.get("/quotas").status_code == 401

    assert (
        admin_client.put(f"/quotas/{quota['id']}", json={"hard": {"storage": 9000}}).status_code
        == 200
    )
    assert quota_of(admin_client, project)["hard"] == {"storage": 9000}
    for bad in ({"hard": {"storage": 0}}, {"hard": {}}, {"hard": {"storage": -5}}):
        assert admin_client.put(f"/quotas/{quota['id']}", json=bad).status_code == 400
    assert admin_client.put("/quotas/999999", json={"hard": {"storage": 1}}).status_code == 404


def test_parallel_pushes_never_overshoot(admin_client, make_project, server):
    """20 pushes of distinct 40 KiB blobs into a project with room for 7: exactly those
    that fit are stored, the others get DENIED with Harbor's words, usage <= limit."""
    size, limit = 40 * 1024, 7 * 40 * 1024 + 1000
    project = make_project(storage_limit=limit)
    results: list[requests.Response] = []
    lock = threading.Lock()

    def push(i: int) -> None:
        http = Pusher(server.url).http
        r = session_upload(
            http, server.url, f"{project}/p{i % 3}", uuid.uuid4().bytes * (size // 16)
        )
        with lock:
            results.append(r)

    threads = [threading.Thread(target=push, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(results) == 20
    ok = [r for r in results if r.status_code == 201]
    refused = [r for r in results if r.status_code != 201]
    assert len(ok) == 7, [(r.status_code, r.text) for r in results]
    for r in refused:
        assert r.status_code == 403, r.text
        error = r.json()["errors"][0]
        assert error["code"] == "DENIED" and QUOTA_WORDS in error["message"]
    quota = quota_of(admin_client, project)
    assert quota["used"]["storage"] == 7 * size <= limit


def test_whole_blob_over_limit_is_refused_before_it_is_stored(admin_client, make_project, server):
    """``POST ?digest=`` with the whole blob: refused on its declared length, the bytes
    never land under their blob key."""
    project = make_project(storage_limit=16 * 1024)
    data = os.urandom(32 * 1024)
    http = Pusher(server.url).http
    r = http.post(
        f"{server.url}/v2/{project}/m/blobs/uploads/",
        params={"digest": sha(data)},
        data=data,
        headers={"Content-Type": "application/octet-stream"},
        timeout=30,
    )
    assert r.status_code == 403, r.text
    assert r.json()["errors"][0]["code"] == "DENIED"
    assert QUOTA_WORDS in r.json()["errors"][0]["message"]
    assert not list(server.data_dir.rglob(sha(data).split(":")[1] + "*"))
    assert used(admin_client, project) == 0
