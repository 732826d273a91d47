"""Upload sessions: POST, chunked and streamed PATCH, status, PUT, cancel, truncated bodies."""

import base64
import socket
import time
from urllib.parse import urlsplit

import pytest

from tests.support.oci import sha256

pytestmark = pytest.mark.api

DATA = b"".join(i.to_bytes(4, "big") for i in range(50_000))  # 200,000 bytes


def error_code(response) -> str:
    return response.json()["errors"][0]["code"]


def test_session_headers(registry_client, repo):
    r = registry_client.post(f"/v2/{repo}/blobs/uploads/")
    assert r.status_code == 202
    upload_id = r.headers["Docker-Upload-UUID"]
    assert r.headers["Location"].endswith(f"/v2/{repo}/blobs/uploads/{upload_id}")
    assert r.headers["Range"] == "0-0" and r.headers["Content-Length"] == "0"
    status = registry_client.get(r.headers["Location"])
    assert status.status_code == 204 and status.headers["Docker-Upload-UUID"] == upload_id


def test_chunked_upload_with_content_range(registry_client, repo):
    location = registry_client.start_upload(repo)
    pieces = [DATA[:70_000], DATA[70_000:150_000], DATA[150_000:]]
    offset = 0
    for piece in pieces:
        end = offset + len(piece) - 1
        r = registry_client.patch(
            location,
            data=piece,
            headers={
                "Content-Range": f"{offset}-{end}",
                "Content-Type": "application/octet-stream",
            },
        )
        assert r.status_code == 202, r.text
        assert r.headers["Range"] == f"0-{end}"
        location = r.headers["Location"]
        offset = end + 1
    status = registry_client.get(location)
    assert status.status_code == 204 and status.headers["Range"] == f"0-{len(DATA) - 1}"
    digest = sha256(DATA)
    r = registry_client.put(location, params={"digest": digest})
    assert r.status_code == 201, r.text
    assert r.headers["Docker-Content-Digest"] == digest
    assert r.headers["Location"].endswith(f"/v2/{repo}/blobs/{digest}")
    assert registry_client.get(f"/v2/{repo}/blobs/{digest}").content == DATA
    # the session is gone once finished
    r = registry_client.get(location)
    assert r.status_code == 404 and error_code(r) == "BLOB_UPLOAD_UNKNOWN"


def test_out_of_order_chunk_is_refused(registry_client, repo):
    location = registry_client.start_upload(repo)
    r = registry_client.patch(location, data=DATA[:1000], headers={"Content-Range": "0-999"})
    assert r.status_code == 202
    r = registry_client.patch(
        location, data=DATA[2000:3000], headers={"Content-Range": "2000-2999"}
    )
    assert r.status_code == 416
    assert r.headers["Range"] == "0-999" and r.headers["Location"]
    r = registry_client.patch(
        location, data=DATA[1000:1500], headers={"Content-Range": "1000-1999"}
    )  # length mismatch
    assert r.status_code == 416
    r = registry_client.patch(
        location, data=DATA[1000:], headers={"Content-Range": f"1000-{len(DATA) - 1}"}
    )
    assert r.status_code == 202
    assert registry_client.put(location, params={"digest": sha256(DATA)}).status_code == 201


def test_streamed_patch_and_final_chunk_in_put(registry_client, repo):
    location = registry_client.start_upload(repo)

    def generate():  # Transfer-Encoding: chunked, no Content-Length
        for i in range(0, 150_000, 7_000):
            yield DATA[i : min(i + 7_000, 150_000)]

    r = registry_client.patch(location, data=generate())
    assert r.status_code == 202 and r.headers["Range"] == "0-149999"
    r = registry_client.put(
        r.headers["Location"],
        params={"digest": sha256(DATA)},
        data=DATA[150_000:],
        headers={"Content-Range": f"150000-{len(DATA) - 1}"},
    )
    assert r.status_code == 201, r.text
    assert registry_client.get(f"/v2/{repo}/blobs/{sha256(DATA)}").content == DATA


def test_finish_requires_a_matching_digest(registry_client, repo):
    location = registry_client.start_upload(repo)
    registry_client.patch(location, data=DATA)
    r = registry_client.put(location)
    assert r.status_code == 400 and error_code(r) == "DIGEST_INVALID"
    wrong = sha256(b"wrong")
    r = registry_client.put(location, params={"digest": wrong})
    assert r.status_code == 400 and error_code(r) == "DIGEST_INVALID"
    assert registry_client.head(f"/v2/{repo}/blobs/{wrong}").status_code == 404
    assert registry_client.head(f"/v2/{repo}/blobs/{sha256(DATA)}").status_code == 404
    # the session survives a bad digest and can still be finished correctly
    assert registry_client.put(location, params={"digest": sha256(DATA)}).status_code == 201


def test_cancel_and_unknown_sessions(registry_client, repo, project):
    location = registry_client.start_upload(repo)
    assert registry_client.delete(location).status_code == 204
    for method in ("GET", "PATCH", "PUT", "DELETE"):
        r = registry_client.request(method, location, params={"digest": sha256(b"")})
        assert r.status_code == 404 and error_code(r) == "BLOB_UPLOAD_UNKNOWN", method
    r = registry_client.get(f"/v2/{repo}/blobs/uploads/not-a-session")
    assert r.status_code == 404 and error_code(r) == "BLOB_UPLOAD_UNKNOWN"
    other = registry_client.start_upload(repo)
    foreign = other.replace(f"/v2/{repo}/", f"/v2/{project}/elsewhere/")
    assert registry_client.get(foreign).status_code == 404


def _raw_patch(base_url: str, path: str, declared: int, body: bytes) -> None:
    """Send a PATCH whose body stops short of its Content-Length, then hang up."""
    parts = urlsplit(base_url)
    auth = base64.b64encode(b"admin:Harbor12345").decode()
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(
            (
                f"PATCH {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                f"Authorization: Basic {auth}\r\nContent-Length: {declared}\r\n"
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + body
        )
        time.sleep(1)  # let the server store what arrived before the connection drops


def test_truncated_body_keeps_what_arrived_and_resumes(server, registry_client, repo):
    location = registry_client.start_upload(repo)
    path = urlsplit(location).path if location.startswith("http") else location
    _raw_patch(server.url, path, declared=len(DATA), body=DATA[:60_000])
    deadline = time.monotonic() + 10
    while True:  # the server stores what arrived once it notices the disconnect
        status = registry_client.get(location)
        assert status.status_code == 204
        received = int(status.headers["Range"].split("-")[1]) + 1
        if received > 1 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert received == 60_000
    r = registry_client.patch(
        location, data=DATA[received:], headers={"Content-Range": f"{received}-{len(DATA) - 1}"}
    )
    assert r.status_code == 202, r.text
    assert registry_client.put(location, params={"digest": sha256(DATA)}).status_code == 201
    assert registry_client.get(f"/v2/{repo}/blobs/{sha256(DATA)}").content == DATA


def test_truncated_monolithic_push_stores_nothing(server, registry_client, repo):
    registry_client.push_blob(repo, b"repository exists")
    digest = sha256(DATA)
    parts = urlsplit(server.url)
    auth = base64.b64encode(b"admin:Harbor12345").decode()
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(
            (
                f"POST /v2/{repo}/blobs/uploads/?digest={digest} HTTP/1.1\r\n"
                f"Host: {parts.netloc}\r\nAuthorization: Basic {auth}\r\n"
                f"Content-Length: {len(DATA)}\r\n\r\n"
            ).encode()
            + DATA[:1000]
        )
        time.sleep(1)
    assert registry_client.head(f"/v2/{repo}/blobs/{digest}").status_code == 404


def test_empty_blobs(registry_client, repo):
    empty = sha256(b"")
    location = registry_client.start_upload(repo)
    assert registry_client.put(location, params={"digest": empty}).status_code == 201
    r = registry_client.get(f"/v2/{repo}/blobs/{empty}")
    assert r.status_code == 200 and r.content == b"" and r.headers["Content-Length"] == "0"
    r = registry_client.post(f"/v2/{repo}/blobs/uploads/", params={"digest": empty}, data=b"")
    assert r.status_code == 201


def test_single_put_with_wrong_digest_keeps_nothing(registry_client, repo):
    location = registry_client.start_upload(repo)
    r = registry_client.put(location, params={"digest": sha256(b"other")}, data=DATA)
    assert r.status_code == 400 and error_code(r) == "DIGEST_INVALID"
    assert registry_client.head(f"/v2/{repo}/blobs/{sha256(b'other')}").status_code == 404
    assert (
        registry_client.put(location, params={"digest": sha256(DATA)}, data=DATA).status_code == 201
    )


def test_concurrent_writer_of_a_session_is_refused_not_mixed_in(registry_client, repo):
    """While one request streams into a session, a second PATCH of the same session is
    refused (416); the first completes, and the blob holds exactly its bytes. Without the
    session lock the second would truncate and overwrite the first's bytes, and the finish
    would store them under the first's digest."""
    import threading

    location = registry_client.start_upload(repo)
    first = DATA * 20  # 4 MB, streamed
    paused, resume = threading.Event(), threading.Event()

    def body():
        yield first[:1_000_000]
        paused.set()
        resume.wait(30)
        yield first[1_000_000:]

    result = {}

    def stream():
        result["r"] = registry_client.patch(
            location, data=body(), headers={"Content-Type": "application/octet-stream"}
        )

    writer = threading.Thread(target=stream)
    writer.start()
    assert paused.wait(30)
    time.sleep(0.3)  # the first request holds the session now
    try:
        intruder = registry_client.patch(
            location,
            data=b"x" * 10_000,
            headers={"Content-Range": "0-9999", "Content-Type": "application/octet-stream"},
        )
        assert intruder.status_code == 416, intruder.text
        assert error_code(intruder) == "RANGE_INVALID"
    finally:
        resume.set()
        writer.join(60)
    assert result["r"].status_code == 202, result["r"].text
    assert result["r"].headers["Range"] == f"0-{len(first) - 1}"
    digest = sha256(first)
    done = registry_client.put(f"{location}?digest={digest}")
    assert done.status_code == 201, done.text
    got = registry_client.get(f"/v2/{repo}/blobs/{digest}")
    assert got.status_code == 200 and sha256(got.content) == digest


def test_finish_retried_after_its_bytes_moved_but_before_the_link(registry_client, repo, server):
    """A finish that died after moving the session's bytes under their blob key and before
    recording the link: the retry completes from the blob key (a blob key only ever holds
    verified bytes). Locking must not recreate the moved session file in the meantime."""
    location = registry_client.start_upload(repo)
    r = registry_client.patch(
        location, data=DATA, headers={"Content-Type": "application/octet-stream"}
    )
    assert r.status_code == 202, r.text
    upload_id, digest = r.headers["Docker-Upload-UUID"], sha256(DATA)
    wrong = registry_client.put(f"{location}?digest={sha256(b'other')}")
    assert wrong.status_code == 400  # (and this process no longer holds the running hash)
    storage = server.data_dir / "storage"
    blob = storage / "blobs" / "sha256" / digest[7:9] / digest[7:]
    blob.parent.mkdir(parents=True, exist_ok=True)
    (storage / "uploads" / upload_id).rename(blob)  # the move, then the "crash"
    done = registry_client.put(f"{location}?digest={digest}")
    assert done.status_code == 201, done.text
    assert registry_client.get(f"/v2/{repo}/blobs/{digest}").content == DATA
    assert not (storage / "uploads" / upload_id).exists()
    assert not (storage / "uploads" / f"{upload_id}.lock").exists()


def test_retried_finish_cannot_link_another_projects_blob(server, registry_client, repo, new_user):
    """The cross-project read: user B, who cannot see A's private project, makes the first
    finish of their own session fail after its bytes were moved (B deletes their project
    while the PUT still sends its body, so the link fails), then retries the finish with the
    digest of A's blob of the same size. The retry must refuse, and B must not be able to
    read A's blob."""
    import threading

    from tests.support.clients import ApiClient
    from tests.support.oci import RegistryClient

    secret = bytes(reversed(DATA))  # A's blob, same size as B's
    victim = registry_client.push_blob(repo, secret)
    _, username, password, _ = new_user()
    own = f"b-{time.time_ns()}"
    with (
        ApiClient(server.url, (username, password)) as api,
        RegistryClient(server.url, (username, password)) as b,
    ):
        assert api.post("/projects", json={"project_name": own}).status_code == 201
        name = f"{own}/loot"
        location = b.start_upload(name)
        assert (
            b.patch(
                location, data=DATA[:100_000], headers={"Content-Type": "application/octet-stream"}
            ).status_code
            == 202
        )
        paused, resume = threading.Event(), threading.Event()

        def body():
            yield DATA[100_000:150_000]
            paused.set()
            resume.wait(30)
            yield DATA[150_000:]

        result = {}

        def finish():
            result["r"] = b.put(
                f"{location}?digest={sha256(DATA)}",
                data=body(),
                headers={"Content-Type": "application/octet-stream"},
            )

        writer = threading.Thread(target=finish)
        writer.start()
        try:
            assert paused.wait(30)
            gone = api.delete(f"/projects/{own}", headers={"X-Is-Resource-Name": "true"})
            assert gone.status_code == 200, gone.text
        finally:
            resume.set()
            writer.join(60)
        assert result["r"].status_code >= 400  # the link failed: no project any more
        assert api.post("/projects", json={"project_name": own}).status_code == 201
        for _ in range(2):  # (the second no longer finds this process's running hash)
            retry = b.put(f"{location}?digest={victim}")
            assert retry.status_code in (400, 404), retry.text
            assert error_code(retry) in (
                "DIGEST_INVALID",
                "BLOB_UPLOAD_INVALID",
                "BLOB_UPLOAD_UNKNOWN",
            )
        stolen = b.get(f"/v2/{name}/blobs/{victim}")
        assert stolen.status_code == 404 and error_code(stolen) == "BLOB_UNKNOWN"
        # the session's own digest still completes
        done = b.put(f"{location}?digest={sha256(DATA)}")
        assert done.status_code == 201, done.text
        assert b.get(f"/v2/{name}/blobs/{sha256(DATA)}").content == DATA


def test_lost_session_bytes_complete_no_other_digest(registry_client, repo, server):
    """Bytes of a session gone from its upload key (a crash, or an attacker's race) with a
    blob of the session's size present under another digest: a finish naming that digest
    is refused; a blob key's existence says nothing about this session's bytes."""
    other = bytes(reversed(DATA))
    victim = registry_client.push_blob(f"{repo}-other", other)
    location = registry_client.start_upload(repo)
    r = registry_client.patch(
        location, data=DATA, headers={"Content-Type": "application/octet-stream"}
    )
    assert r.status_code == 202, r.text
    upload_id = r.headers["Docker-Upload-UUID"]
    wrong = registry_client.put(f"{location}?digest={sha256(b'other')}")
    assert wrong.status_code == 400  # (and this process no longer holds the running hash)
    storage = server.data_dir / "storage"
    (storage / "uploads" / upload_id).unlink()  # the bytes are gone, nothing recorded
    refused = registry_client.put(f"{location}?digest={victim}")
    assert refused.status_code in (400, 404), refused.text
    assert registry_client.head(f"/v2/{repo}/blobs/{victim}").status_code == 404


def test_locations_use_the_external_url_not_the_host_header(tmp_path):
    """With an external URL configured, the absolute URLs of /v2 answers (upload sessions,
    blobs, manifests) are built from it only: a forged ``Host`` is never echoed back."""
    from tests.support.oci import OCI_MANIFEST, RegistryClient, canonical, descriptor
    from tests.support.servers import ADMIN_PASSWORD, running_server

    external = "https://registry.example.com"
    with (
        running_server(tmp_path, extra_env={"HARBOR_EXTERNAL_URL": external}) as srv,
        RegistryClient(srv.url, ("admin", ADMIN_PASSWORD)) as client,
    ):
        client.headers["Host"] = "evil.example"
        name = "library/located"
        r = client.post(f"/v2/{name}/blobs/uploads/")
        assert r.status_code == 202, r.text
        assert r.headers["Location"].startswith(f"{external}/v2/{name}/blobs/uploads/")
        path = urlsplit(r.headers["Location"]).path
        r = client.patch(path, data=b"{}", headers={"Content-Type": "application/octet-stream"})
        assert r.status_code == 202 and r.headers["Location"].startswith(external)
        assert client.get(path).headers["Location"].startswith(external)
        r = client.put(path, params={"digest": sha256(b"{}")})
        assert r.status_code == 201 and r.headers["Location"].startswith(external)
        r = client.post(
            f"/v2/{name}/blobs/uploads/",
            params={"digest": sha256(b"layer")},
            data=b"layer",
            headers={"Content-Type": "application/octet-stream"},
        )
        assert r.status_code == 201 and r.headers["Location"].startswith(external)
        r = client.post(
            f"/v2/{name}-2/blobs/uploads/", params={"mount": sha256(b"layer"), "from": name}
        )
        assert r.status_code == 201 and r.headers["Location"].startswith(external)
        manifest = canonical(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": descriptor("application/vnd.oci.image.config.v1+json", b"{}"),
                "layers": [descriptor("application/vnd.oci.image.layer.v1.tar", b"layer")],
            }
        )
        r = client.push_manifest(name, "v1", manifest)
        assert r.status_code == 201 and r.headers["Location"].startswith(external), r.text
        anon = RegistryClient(srv.url)
        anon.headers["Host"] = "evil.example"
        challenge = anon.get("/v2/").headers["WWW-Authenticate"]
        assert f'realm="{external}/service/token"' in challenge
