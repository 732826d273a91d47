"""Proxy-cache projects through the API and ``/v2``: a project created with ``registry_id``
names its upstream (a CNCF Distribution here) in its summary, refuses pushes as Harbor does
(403 DENIED), and pulls fill it from the upstream."""

from __future__ import annotations

import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from tests.conftest import unique
from tests.support.oci import OCI_INDEX, OCI_MANIFEST, RegistryClient, canonical
from tests.support.oci import sha256 as digest_of
from tests.support.push import Pusher
from tests.support.registry_clients import distribution_registry
from tests.support.servers import ADMIN_PASSWORD

pytestmark = pytest.mark.api


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    with distribution_registry(tmp_path_factory.mktemp("proxy-upstream")) as server:
        yield server


@pytest.fixture
def proxy_project(admin_client, upstream):
    """(project name, registry id) of a fresh proxy cache of ``upstream``."""
    r = admin_client.post(
        "/registries",
        json={"name": unique("up"), "type": "docker-registry", "url": f"http://{upstream.host}"},
    )
    assert r.status_code == 201, r.text
    registry_id = int(r.headers["Location"].rsplit("/", 1)[1])
    name = unique("proxy")
    r = admin_client.post(
        "/projects",
        json={"project_name": name, "registry_id": registry_id, "metadata": {"public": "false"}},
    )
    assert r.status_code == 201, r.text
    yield name, registry_id
    admin_client.delete(f"/projects/{name}", headers={"X-Is-Resource-Name": "true"})
    admin_client.delete(f"/registries/{registry_id}")


def test_proxy_project_names_its_registry(admin_client, proxy_project, upstream):
    name, registry_id = proxy_project
    project = admin_client.get(f"/projects/{name}").json()
    assert project["registry_id"] == registry_id
    summary = admin_client.get(f"/projects/{name}/summary").json()
    assert summary["registry"]["id"] == registry_id
    assert summary["registry"]["url"] == f"http://{upstream.host}"
    assert summary["registry"]["type"] == "docker-registry"
    assert "credential" not in summary["registry"]
    r = admin_client.put(f"/projects/{name}", json={"registry_id": registry_id + 1000})
    assert r.status_code == 400, r.text
    assert (
        admin_client.put(
            f"/projects/{name}",
            json={"registry_id": registry_id, "metadata": {"max_upstream_conn": "2"}},
        ).status_code
        == 200
    )
    assert admin_client.get(f"/projects/{name}").json()["metadata"]["max_upstream_conn"] == "2"
    r = admin_client.delete(f"/registries/{registry_id}")
    assert r.status_code == 412 and name in r.text


def test_ordinary_project_summary_has_no_registry(admin_client, project):
    assert admin_client.get(f"/projects/{project}/summary").json()["registry"] is None


def test_proxy_project_needs_a_known_registry_and_a_system_admin(
    admin_client, new_user, proxy_project
):
    r = admin_client.post(
        "/projects", json={"project_name": unique("proxy"), "registry_id": 987654}
    )
    assert r.status_code == 400 and "registry 987654 not found" in r.text
    _, _, _, user = new_user()
    r = user.post(
        "/projects", json={"project_name": unique("proxy"), "registry_id": proxy_project[1]}
    )
    assert r.status_code == 403 and "Only system admin" in r.text


def test_push_to_proxy_project_is_denied(server, proxy_project, registry_client):
    name, _ = proxy_project
    r = registry_client.post(f"/v2/{name}/app/blobs/uploads/")
    assert r.status_code == 403, r.text
    error = r.json()["errors"][0]
    assert error["code"] == "DENIED"
    assert error["message"] == f"can not push artifact to a proxy project: {name}"
    r = registry_client.put(
        f"/v2/{name}/app/manifests/v1",
        data=b"{}",
        headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
    )
    assert r.status_code == 403 and r.json()["errors"][0]["code"] == "DENIED"
    anonymous = Pusher(server.url, auth=None)  # credentials first: 401, not 403
    assert anonymous.http.post(f"{server.url}/v2/{name}/app/blobs/uploads/").status_code == 401


def _wait_for_tag(admin_client, project: str, repo: str, tag: str, digest: str) -> None:
    """The fetched manifest becomes an artifact once its blobs were pulled (a waiter)."""
    deadline = time.monotonic() + 20
    path = f"/projects/{project}/repositories/{repo.replace('/', '%252F')}/artifacts/{tag}"
    while time.monotonic() < deadline:
        r = admin_client.get(path)
        if r.status_code == 200 and r.json()["digest"] == digest:
            return
        time.sleep(0.1)
    raise AssertionError(f"{project}/{repo}:{tag} was not cached: {r.status_code} {r.text}")


def _pull(client, name: str, tag: str) -> tuple[str, list[bytes]]:
    """Pull like a client: the manifest by tag, then its config and layers."""
    r = client.get(f"/v2/{name}/manifests/{tag}", headers={"Accept": OCI_MANIFEST})
    assert r.status_code == 200, r.text
    manifest = r.json()
    blobs = []
    for descriptor in [manifest["config"], *manifest["layers"]]:
        blob = client.get(f"/v2/{name}/blobs/{descriptor['digest']}")
        assert blob.status_code == 200, blob.text
        assert digest_of(blob.content) == descriptor["digest"]
        blobs.append(blob.content)
    return r.headers["Docker-Content-Digest"], blobs


def test_pull_fills_then_serves_locally_when_upstream_is_down(
    admin_client, proxy_project, upstream, registry_client, anon_client
):
    project, _ = proxy_project
    repo = f"lib/{unique('app')}"
    origin = RegistryClient(f"http://{upstream.host}")
    layer = uuid.uuid4().bytes * 4096
    pushed, _ = origin.push_image(repo, "v1", (layer,))
    moved, _ = origin.push_image(repo, "moving", (uuid.uuid4().bytes,))
    name = f"{project}/{repo}"
    digest, blobs = _pull(registry_client, name, "v1")
    assert digest == pushed and blobs[1] == layer
    _wait_for_tag(admin_client, project, repo, "v1", pushed)
    assert registry_client.head(f"/v2/{name}/blobs/{digest_of(layer)}").status_code == 200
    _pull(registry_client, name, "moving")
    _wait_for_tag(admin_client, project, repo, "moving", moved)
    # the tag moves upstream: the next pull follows it
    again, _ = origin.push_image(repo, "moving", (uuid.uuid4().bytes,))
    assert _pull(registry_client, name, "moving")[0] == again
    _wait_for_tag(admin_client, project, repo, "moving", again)
    anonymous = RegistryClient(registry_client.base_url)
    assert anonymous.get(f"/v2/{name}/manifests/v1").status_code == 401  # a private project
    upstream.stop()
    try:
        digest, blobs = _pull(registry_client, name, "v1")  # served from the cache
        assert digest == pushed and blobs[1] == layer
        r = registry_client.get(f"/v2/{name}/manifests/never-pulled")
        assert r.status_code == 404 and r.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"
        r = registry_client.get(f"/v2/{name}/blobs/{digest_of(b'never pulled')}")
        assert r.status_code == 404 and r.json()["errors"][0]["code"] == "BLOB_UNKNOWN"
    finally:
        upstream.start()


def test_upstream_404_for_a_cached_tag(admin_client, proxy_project, upstream, registry_client):
    """Harbor passes the upstream's 404 on; ``proxy_cache_local_on_not_found`` serves the
    cached copy instead."""
    project, _ = proxy_project
    repo = unique("gone")
    origin = RegistryClient(f"http://{upstream.host}")
    pushed, _ = origin.push_image(repo, "v1", (uuid.uuid4().bytes,))
    name = f"{project}/{repo}"
    _pull(registry_client, name, "v1")
    _wait_for_tag(admin_client, project, repo, "v1", pushed)
    assert origin.delete(f"/v2/{repo}/manifests/{pushed}").status_code == 202
    assert registry_client.get(f"/v2/{name}/manifests/v1").status_code == 404
    assert (
        admin_client.put(
            f"/projects/{project}", json={"metadata": {"proxy_cache_local_on_not_found": "true"}}
        ).status_code
        == 200
    )
    assert _pull(registry_client, name, "v1")[0] == pushed
    # deleting cached artifacts is allowed, as in Harbor
    assert registry_client.delete(f"/v2/{name}/manifests/{pushed}").status_code == 202
    assert registry_client.get(f"/v2/{name}/manifests/v1").status_code == 404


class CountingProxy(ThreadingHTTPServer):
    """A slow reverse proxy in front of the upstream that records how many requests were
    in flight at once (each is held ``delay`` seconds)."""

    daemon_threads = True

    def __init__(self, target: str, delay: float = 0.3) -> None:
        self.target, self.delay = target, delay
        self.active = self.peak = 0
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Forward)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Forward(BaseHTTPRequestHandler):
    server: CountingProxy

    def log_message(self, *args) -> None:
        pass

    def _forward(self) -> None:
        with self.server.lock:
            self.server.active += 1
            self.server.peak = max(self.server.peak, self.server.active)
        try:
            time.sleep(self.server.delay)
            r = requests.request(
                self.command,
                self.server.target + self.path,
                timeout=30,
                headers={"Accept": self.headers.get("Accept", "*/*")},
            )
            self.send_response(r.status_code)
            for header in ("Content-Type", "Docker-Content-Digest", "Content-Length"):
                if header in r.headers:
                    self.send_header(header, r.headers[header])
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(r.content)
        finally:
            with self.server.lock:
                self.server.active -= 1

    do_GET = do_HEAD = _forward


def _parallel_blob_pulls(client, name: str, digests: list[str]) -> None:
    def pull(digest: str) -> None:
        r = client.get(f"/v2/{name}/blobs/{digest}")
        assert r.status_code == 200 and digest_of(r.content) == digest, r.text

    with ThreadPoolExecutor(len(digests)) as pool:
        list(pool.map(pull, digests))


def test_max_upstream_conn_caps_concurrent_upstream_requests(admin_client, upstream, server):
    origin = RegistryClient(f"http://{upstream.host}")
    repo = unique("conn")
    blobs = [origin.push_blob(repo, uuid.uuid4().bytes * 64) for _ in range(8)]
    counting = CountingProxy(f"http://{upstream.host}")
    r = admin_client.post(
        "/registries", json={"name": unique("slow"), "type": "docker-registry", "url": counting.url}
    )
    registry_id = int(r.headers["Location"].rsplit("/", 1)[1])
    limited, free = unique("limited"), unique("free")
    for project, metadata in ((limited, {"max_upstream_conn": "1"}), (free, {})):
        assert (
            admin_client.post(
                "/projects",
                json={"project_name": project, "registry_id": registry_id, "metadata": metadata},
            ).status_code
            == 201
        )
    try:
        with RegistryClient(server.url, ("admin", ADMIN_PASSWORD)) as client:
            _parallel_blob_pulls(client, f"{free}/{repo}", blobs[:4])
            assert counting.peak > 1  # without a cap the pulls do overlap upstream
            counting.peak = 0
            _parallel_blob_pulls(client, f"{limited}/{repo}", blobs[4:])
            assert counting.peak == 1
    finally:
        counting.shutdown()
        for project in (limited, free):
            admin_client.delete(f"/projects/{project}", headers={"X-Is-Resource-Name": "true"})
        admin_client.delete(f"/registries/{registry_id}")


def test_a_client_gone_mid_blob_leaves_nothing_half_cached(
    proxy_project, upstream, registry_client
):
    project, _ = proxy_project
    repo = unique("gone-mid")
    origin = RegistryClient(f"http://{upstream.host}")
    data = uuid.uuid4().bytes * (1 << 20)  # 16 MiB
    digest = origin.push_blob(repo, data)
    name = f"{project}/{repo}"
    partial = registry_client.get(f"/v2/{name}/blobs/{digest}", stream=True)
    assert partial.status_code == 200 and int(partial.headers["Content-Length"]) == len(data)
    assert len(next(partial.iter_content(1 << 20))) > 0
    partial.close()  # the client goes away after 1 MiB
    time.sleep(0.5)
    r = registry_client.get(f"/v2/{name}/blobs/{digest}")
    assert r.status_code == 200 and digest_of(r.content) == digest
    upstream.stop()
    try:  # the complete second pull was cached
        r = registry_client.get(f"/v2/{name}/blobs/{digest}")
        assert r.status_code == 200 and digest_of(r.content) == digest
    finally:
        upstream.start()


def test_an_index_and_its_children_are_cached_as_they_are_pulled(
    admin_client, proxy_project, upstream, registry_client
):
    project, _ = proxy_project
    repo = unique("multi")
    origin = RegistryClient(f"http://{upstream.host}")
    children = [origin.push_image(repo, f"child-{i}", (uuid.uuid4().bytes,)) for i in range(2)]
    index = canonical(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": digest,
                    "size": len(body),
                    "platform": {"os": "linux", "architecture": arch},
                }
                for (digest, body), arch in zip(children, ("amd64", "arm64"), strict=True)
            ],
        }
    )
    assert origin.push_manifest(repo, "multi", index, OCI_INDEX).status_code == 201
    name = f"{project}/{repo}"
    r = registry_client.get(f"/v2/{name}/manifests/multi", headers={"Accept": OCI_INDEX})
    assert r.status_code == 200 and r.content == index
    for digest, _ in children:  # the client pulls each platform by digest
        _pull(registry_client, name, digest)
    _wait_for_tag(admin_client, project, repo, "multi", digest_of(index))
    upstream.stop()
    try:
        r = registry_client.get(f"/v2/{name}/manifests/multi", headers={"Accept": OCI_INDEX})
        assert r.status_code == 200 and r.content == index
        assert _pull(registry_client, name, children[1][0])[0] == children[1][0]
    finally:
        upstream.start()


def test_proxy_speed_kb_paces_a_first_pull(admin_client, proxy_project, upstream, registry_client):
    """512 KiB at 256 KB/s: about 2 s from upstream (at least 1.5 s); then served here."""
    project, _ = proxy_project
    r = admin_client.put(f"/projects/{project}", json={"metadata": {"proxy_speed_kb": "256"}})
    assert r.status_code == 200, r.text
    repo = f"lib/{unique('paced')}"
    layer = os.urandom(512 * 1024)
    RegistryClient(f"http://{upstream.host}").push_image(repo, "v1", (layer,))
    name = f"{project}/{repo}"
    started = time.monotonic()
    _, blobs = _pull(registry_client, name, "v1")
    elapsed = time.monotonic() - started
    assert blobs[1] == layer and elapsed >= 1.5, elapsed
    blob = f"/v2/{name}/blobs/{digest_of(layer)}"
    deadline = time.monotonic() + 10
    while registry_client.head(blob).status_code != 200:  # linked once verified
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_a_range_on_a_first_pull_is_answered_206_and_the_blob_still_cached(
    admin_client, proxy_project, upstream, registry_client
):
    project, _ = proxy_project
    repo = f"lib/{unique('ranged')}"
    layer = os.urandom(3 * 1024 * 1024)  # several upstream chunks
    RegistryClient(f"http://{upstream.host}").push_image(repo, "v1", (layer,))
    name = f"{project}/{repo}"
    blob = f"/v2/{name}/blobs/{digest_of(layer)}"
    first, last = 1024 * 1024 + 5, 2 * 1024 * 1024 + 9  # across a chunk boundary
    r = registry_client.get(blob, headers={"Range": f"bytes={first}-{last}"})
    assert r.status_code == 206, r.text
    assert r.headers["Content-Range"] == f"bytes {first}-{last}/{len(layer)}"
    assert r.content == layer[first : last + 1]
    deadline = time.monotonic() + 10
    while registry_client.head(blob).status_code != 200:  # the whole blob, verified
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert registry_client.get(blob).content == layer
    r = registry_client.get(blob, headers={"Range": "bytes=-10"})  # now from the cache
    assert r.status_code == 206 and r.content == layer[-10:]
