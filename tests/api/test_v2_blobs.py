"""Blob endpoints: monolithic push, HEAD/GET with ranges, DELETE, mounts, digests."""

import pytest

from tests.conftest import unique
from tests.support.oci import sha256, sha512

pytestmark = pytest.mark.api

DATA = bytes(range(256)) * 40  # 10,240 bytes


def error_code(response) -> str:
    return response.json()["errors"][0]["code"]


def test_monolithic_push_then_head_and_get(registry_client, repo):
    digest = sha256(DATA)
    r = registry_client.post(
        f"/v2/{repo}/blobs/uploads/",
        params={"digest": digest},
        data=DATA,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert r.status_code == 201, r.text
    assert r.headers["Location"].endswith(f"/v2/{repo}/blobs/{digest}")
    assert r.headers["Docker-Content-Digest"] == digest
    head = registry_client.head(f"/v2/{repo}/blobs/{digest}")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["Content-Length"] == str(len(DATA))
    assert head.headers["Docker-Content-Digest"] == digest
    got = registry_client.get(f"/v2/{repo}/blobs/{digest}")
    assert got.status_code == 200 and got.content == DATA
    assert got.headers["Accept-Ranges"] == "bytes"


@pytest.mark.parametrize(
    "header, start, end",
    [
        ("bytes=0-99", 0, 99),
        ("bytes=10000-", 10000, 10239),
        ("bytes=-40", 10200, 10239),
        ("bytes=10200-99999", 10200, 10239),
    ],
)
def test_ranged_reads(registry_client, repo, header, start, end):
    digest = registry_client.push_blob(repo, DATA)
    r = registry_client.get(f"/v2/{repo}/blobs/{digest}", headers={"Range": header})
    assert r.status_code == 206
    assert r.content == DATA[start : end + 1]
    assert r.headers["Content-Range"] == f"bytes {start}-{end}/{len(DATA)}"
    assert r.headers["Content-Length"] == str(end - start + 1)


def test_unsatisfiable_range(registry_client, repo):
    digest = registry_client.push_blob(repo, DATA)
    r = registry_client.get(f"/v2/{repo}/blobs/{digest}", headers={"Range": "bytes=20000-"})
    assert r.status_code == 416 and r.headers["Content-Range"] == f"bytes */{len(DATA)}"


def test_unknown_and_invalid_digests(registry_client, repo):
    registry_client.push_blob(repo, b"make the repository exist")
    unknown = sha256(b"never pushed")
    r = registry_client.get(f"/v2/{repo}/blobs/{unknown}")
    assert r.status_code == 404 and error_code(r) == "BLOB_UNKNOWN"
    head = registry_client.head(f"/v2/{repo}/blobs/{unknown}")
    assert head.status_code == 404 and head.content == b""
    for bad in ("sha256:abc", "md5:" + "a" * 32, "notadigest"):
        r = registry_client.get(f"/v2/{repo}/blobs/{bad}")
        assert r.status_code == 400 and error_code(r) == "DIGEST_INVALID", bad


def test_monolithic_digest_mismatch_stores_nothing(registry_client, repo):
    wrong = sha256(b"something else")
    r = registry_client.post(f"/v2/{repo}/blobs/uploads/", params={"digest": wrong}, data=DATA)
    assert r.status_code == 400 and error_code(r) == "DIGEST_INVALID"
    assert registry_client.head(f"/v2/{repo}/blobs/{wrong}").status_code == 404
    r = registry_client.post(
        f"/v2/{repo}/blobs/uploads/", params={"digest": "sha256:zz"}, data=DATA
    )
    assert r.status_code == 400 and error_code(r) == "DIGEST_INVALID"


def test_sha512_blobs(registry_client, repo):
    digest = sha512(DATA)
    r = registry_client.post(f"/v2/{repo}/blobs/uploads/", params={"digest": digest}, data=DATA)
    assert r.status_code == 201 and r.headers["Docker-Content-Digest"] == digest
    assert registry_client.get(f"/v2/{repo}/blobs/{digest}").content == DATA
    location = registry_client.start_upload(repo)
    other = DATA + b"!"
    r = registry_client.put(location, params={"digest": sha512(other)}, data=other)
    assert r.status_code == 201, r.text
    assert registry_client.get(f"/v2/{repo}/blobs/{sha512(other)}").content == other


def test_delete_blob(registry_client, repo):
    digest = registry_client.push_blob(repo, DATA)
    r = registry_client.delete(f"/v2/{repo}/blobs/{digest}")
    assert r.status_code == 202
    assert registry_client.head(f"/v2/{repo}/blobs/{digest}").status_code == 404
    r = registry_client.delete(f"/v2/{repo}/blobs/{digest}")
    assert r.status_code == 404 and error_code(r) == "BLOB_UNKNOWN"


def test_blobs_are_visible_per_repository(registry_client, project):
    first, second = f"{project}/one", f"{project}/two"
    digest = registry_client.push_blob(first, DATA)
    registry_client.push_blob(second, b"other content")
    assert registry_client.head(f"/v2/{second}/blobs/{digest}").status_code == 404


def test_cross_repository_mount(registry_client, project):
    source, target = f"{project}/source", f"{project}/target"
    digest = registry_client.push_blob(source, DATA)
    r = registry_client.post(
        f"/v2/{target}/blobs/uploads/", params={"mount": digest, "from": source}
    )
    assert r.status_code == 201, r.text
    assert r.headers["Location"].endswith(f"/v2/{target}/blobs/{digest}")
    assert r.headers["Docker-Content-Digest"] == digest
    assert registry_client.get(f"/v2/{target}/blobs/{digest}").content == DATA


def test_mount_falls_back_to_an_upload_session(registry_client, project):
    target = f"{project}/target"
    unknown = sha256(b"not anywhere")
    for params in (
        {"mount": unknown, "from": f"{project}/source"},
        {"mount": unknown},
        {"mount": sha256(b"x"), "from": f"{unique('nope')}/repo"},
    ):
        r = registry_client.post(f"/v2/{target}/blobs/uploads/", params=params)
        assert r.status_code == 202, params
        assert r.headers["Docker-Upload-UUID"] and "/blobs/uploads/" in r.headers["Location"]
    r = registry_client.post(f"/v2/{target}/blobs/uploads/", params={"mount": "sha256:bad"})
    assert r.status_code == 400 and error_code(r) == "DIGEST_INVALID"


def test_mount_needs_pull_on_the_source(server, registry_client, project, new_user, admin_client):
    digest = registry_client.push_blob(f"{project}/secret", DATA)
    _, username, password, _ = new_user()
    mine = unique("mine")
    from tests.support.oci import RegistryClient

    user = RegistryClient(server.url, (username, password))
    r = admin_client.post("/projects", json={"project_name": mine, "metadata": {"public": "false"}})
    assert r.status_code == 201
    admin_client.post(
        f"/projects/{mine}/members",
        headers={"X-Is-Resource-Name": "true"},
        json={"role_id": 2, "member_user": {"username": username}},
    )
    try:
        r = user.post(
            f"/v2/{mine}/app/blobs/uploads/", params={"mount": digest, "from": f"{project}/secret"}
        )
        assert r.status_code == 202  # not mounted: a fresh session instead
        assert user.head(f"/v2/{mine}/app/blobs/{digest}").status_code == 404
    finally:
        admin_client.delete(f"/projects/{mine}", headers={"X-Is-Resource-Name": "true"})
