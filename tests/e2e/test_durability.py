"""Crash the registry (SIGKILL to its process group) in the middle of uploads, restart it on
the same data, and check: nothing acknowledged is lost, nothing partial is visible, the old
upload session either resumes correctly or is refused cleanly, and a retry succeeds."""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
import time

import pytest
import requests

from tests.support.images import GeneratedStream, OciLayout, stream_digest
from tests.support.registry_clients import (
    Registry,
    distribution_registry,
    error_codes,
    push_image,
    skopeo_copy,
    start_upload,
    upload_blob,
    with_digest,
)
from tests.support.servers import postgres_database, running_server

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]
BIG = 96 << 20
KILL_AFTER = 16 << 20
CHUNK = 4 << 20


@pytest.fixture(params=["harbor", "harbor-postgresql", "distribution"])
def crashable(request, tmp_path):
    """A registry of its own (this test kills it), restartable on the same data."""
    if request.param == "harbor":
        with running_server(tmp_path) as server:
            yield Registry("harbor", server)
    elif request.param == "harbor-postgresql":
        with postgres_database() as url, running_server(tmp_path, url) as server:
            yield Registry("harbor", server)
    else:
        with distribution_registry(tmp_path) as server:
            yield Registry("distribution", server)


class TrippingStream(GeneratedStream):
    """Generated body that sets ``tripped`` once ``after`` bytes have been handed out, then
    holds the rest back until ``released``, so the kill always lands mid-body."""

    def __init__(self, size: int, seed: int, after: int):
        super().__init__(size, seed)
        self.after, self.tripped, self.released = after, threading.Event(), threading.Event()

    def read(self, n: int = -1) -> bytes:
        if self.size - self.left >= self.after:
            self.tripped.set()
            self.released.wait(60)
        return super().read(n)


def crash_and_restart(registry: Registry) -> None:
    registry.server.kill()
    registry.server.start()


def blob_sha256(registry: Registry, repo: str, digest: str) -> str:
    response = registry.v2("GET", f"{repo}/blobs/{digest}", stream=True)
    assert response.status_code == 200, response.text
    sha = hashlib.sha256()
    for block in response.iter_content(1 << 20):
        sha.update(block)
    return "sha256:" + sha.hexdigest()


def assert_acknowledged_intact(registry: Registry, repo: str, manifest: str, blobs: list[str]):
    got = registry.manifest(repo, "before")
    assert got.status_code == 200, got.text
    assert "sha256:" + hashlib.sha256(got.content).hexdigest() == manifest
    for digest in blobs:
        assert blob_sha256(registry, repo, digest) == digest


def assert_invisible(registry: Registry, repo: str, digest: str) -> None:
    assert registry.v2("HEAD", f"{repo}/blobs/{digest}").status_code == 404
    missing = registry.v2("GET", f"{repo}/blobs/{digest}")
    assert missing.status_code == 404
    assert error_codes(missing) == ["BLOB_UNKNOWN"]


def resume_or_refused(registry: Registry, url: str, size: int, seed: int) -> bool:
    """Continue a pre-crash session from where the server says it is. True if it completed."""
    status = registry.session.get(url, timeout=30)
    if status.status_code == 404:
        # Distribution also checks its signed _state parameter against the file it left
        clean = {"BLOB_UPLOAD_UNKNOWN"} | (
            {"BLOB_UPLOAD_INVALID"} if registry.kind == "distribution" else set()
        )
        assert set(error_codes(status)) <= clean and error_codes(status), status.text
        return False
    assert status.status_code == 204, status.text
    offset = int(status.headers["Range"].split("-")[1]) + 1
    if status.headers["Range"] == "0-0":
        offset = 0
    assert 0 <= offset <= size
    rest = GeneratedStream(size, seed)
    rest.skip(offset)
    rest.size = size - offset  # Content-Length of what is left
    patched = registry.session.patch(
        url,
        data=rest,
        timeout=120,
        headers={
            "Content-Type": "application/octet-stream",
            "Content-Range": f"{offset}-{size - 1}",
        },
    )
    if patched.status_code == 416:
        return False
    assert patched.status_code == 202, patched.text
    done = registry.session.put(
        with_digest(
            requests.compat.urljoin(registry.url + "/", patched.headers["Location"]),
            stream_digest(size, seed),
        ),
        timeout=60,
    )
    assert done.status_code == 201, done.text
    return True


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_kill_during_streamed_upload(crashable, method):
    registry = crashable
    repo = registry.new_repo("crash")
    manifest, blobs = push_image(registry, repo, "before")
    seed = 1000 + len(method)
    digest = stream_digest(BIG, seed)
    url = start_upload(registry, repo)
    body = TrippingStream(BIG, seed, after=KILL_AFTER)
    target = with_digest(url, digest) if method == "PUT" else url
    outcome: dict = {}

    def send():
        try:
            outcome["response"] = registry.session.request(
                method,
                target,
                data=body,
                timeout=120,
                headers={"Content-Type": "application/octet-stream"},
            )
        except requests.RequestException as exc:
            outcome["error"] = exc

    sender = threading.Thread(target=send)
    sender.start()
    assert body.tripped.wait(60), "the upload never got going"
    registry.server.kill()
    body.released.set()
    sender.join(60)
    assert not sender.is_alive()
    assert "error" in outcome, f"upload finished before the kill: {outcome}"
    registry.server.start()

    assert_acknowledged_intact(registry, repo, manifest, blobs)
    assert_invisible(registry, repo, digest)
    if resume_or_refused(registry, url, BIG, seed):
        assert blob_sha256(registry, repo, digest) == digest
    else:
        assert_invisible(registry, repo, digest)
        retry = start_upload(registry, repo)
        done = registry.session.put(
            with_digest(retry, digest), data=GeneratedStream(BIG, seed), timeout=120
        )
        assert done.status_code == 201, done.text
    assert blob_sha256(registry, repo, digest) == digest
    assert registry.v2("HEAD", f"{repo}/blobs/{digest}").status_code == 200


def test_kill_between_chunks(crashable):
    registry = crashable
    repo = registry.new_repo("chunks")
    manifest, blobs = push_image(registry, repo, "before")
    seed, size = 77, 3 * CHUNK
    data = GeneratedStream(size, seed)
    digest = stream_digest(size, seed)
    url = start_upload(registry, repo)
    for start in (0, CHUNK):
        response = registry.session.patch(
            url,
            data=data.read(CHUNK),
            timeout=60,
            headers={
                "Content-Type": "application/octet-stream",
                "Content-Range": f"{start}-{start + CHUNK - 1}",
            },
        )
        assert response.status_code == 202, response.text
        assert response.headers["Range"] == f"0-{start + CHUNK - 1}"
        url = requests.compat.urljoin(registry.url + "/", response.headers["Location"])

    crash_and_restart(registry)

    assert_acknowledged_intact(registry, repo, manifest, blobs)
    assert_invisible(registry, repo, digest)
    resumed = resume_or_refused(registry, url, size, seed)
    # ours keeps sessions in storage + database: acknowledged chunks survive a crash
    assert resumed or registry.kind == "distribution"
    if not resumed:
        assert_invisible(registry, repo, digest)
        assert upload_blob(registry, repo, b"".join(GeneratedStream(size, seed).chunks())) == digest
    assert blob_sha256(registry, repo, digest) == digest


def test_kill_after_manifest_push_keeps_tags(crashable):
    """Everything a 201 acknowledged survives a crash right after it."""
    registry = crashable
    repo = registry.new_repo("acked")
    manifest, blobs = push_image(registry, repo, "before")
    crash_and_restart(registry)
    assert_acknowledged_intact(registry, repo, manifest, blobs)
    tags = registry.v2("GET", f"{repo}/tags/list")
    assert tags.status_code == 200 and tags.json()["tags"] == ["before"]


def test_upload_session_spans_workers(tmp_path):
    """Upload state lives in storage and the database, not in one worker's memory: every
    chunk goes over a new connection to a two-worker server, landing on either worker."""
    with running_server(tmp_path, extra_args=["--workers", "2"]) as server:
        registry = Registry("harbor", server)
        repo = registry.new_repo("workers")
        size, piece = 8 * (256 << 10), 256 << 10
        data = b"".join(GeneratedStream(size, seed=8).chunks())
        url = start_upload(registry, repo)
        for start in range(0, size, piece):
            with requests.Session() as fresh:  # a new connection each time
                fresh.auth = registry.creds
                status = fresh.get(url, timeout=30)
                assert status.status_code == 204, status.text
                assert status.headers["Range"] == (f"0-{start - 1}" if start else "0-0")
                response = fresh.patch(
                    url,
                    data=data[start : start + piece],
                    timeout=30,
                    headers={
                        "Content-Type": "application/octet-stream",
                        "Content-Range": f"{start}-{start + piece - 1}",
                    },
                )
            assert response.status_code == 202, response.text
            url = requests.compat.urljoin(registry.url + "/", response.headers["Location"])
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        with requests.Session() as fresh:
            fresh.auth = registry.creds
            done = fresh.put(with_digest(url, digest), timeout=30)
        assert done.status_code == 201, done.text
        assert blob_sha256(registry, repo, digest) == digest


@pytest.mark.slow
def storage_root(registry: Registry):
    return registry.server.root if registry.kind == "distribution" else registry.server.data_dir


def wait_for_partial_upload(root, size: int, client: subprocess.Popen, timeout: float = 60):
    """Wait until an upload session under ``root`` holds some, but not all, of ``size``
    bytes (ours: ``uploads/<id>``; Distribution: ``_uploads/<id>/data``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and client.poll() is None:
        for directory, _, files in os.walk(root):
            if "uploads" not in directory:
                continue
            for name in files:
                try:
                    stored = os.stat(os.path.join(directory, name)).st_size
                except FileNotFoundError:
                    continue
                if (1 << 20) <= stored < size - (1 << 20):
                    return
        time.sleep(0.005)
    raise AssertionError("no partly stored upload was seen before the client finished")


def test_skopeo_push_killed_midway_then_retried(crashable, tmp_path):
    """A real client's push dies with the server; after the restart nothing of it is
    visible and the same push, retried, completes with the same digests."""
    registry = crashable
    layout = OciLayout(tmp_path / "src")
    image = layout.add_image("v1", layers=1, big_layer=384 << 20)
    repo = registry.new_repo("skopeo-crash")
    ref = f"docker://{registry.host}/{repo}:v1"
    push = subprocess.Popen(
        [
            "skopeo",
            "copy",
            "-q",
            "--preserve-digests",
            "--dest-tls-verify=false",
            "--dest-creds",
            registry.creds_arg,
            f"oci:{layout.path}:v1",
            ref,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        # Kill once the big layer is partly stored (a fixed sleep raced fast uploads: the
        # whole layer could be acknowledged, hence rightly visible, before the kill).
        wait_for_partial_upload(storage_root(registry), 384 << 20, push)
        assert push.poll() is None, "the push finished before the kill"
        registry.server.kill()
        assert push.wait(60) != 0
    finally:
        if push.poll() is None:
            push.kill()
            push.wait()
    registry.server.start()

    assert registry.manifest(repo, "v1").status_code == 404
    assert_invisible(registry, repo, image.layer_digests[-1])
    skopeo_copy(f"oci:{layout.path}:v1", ref, dest_creds=registry.creds_arg)
    assert registry.manifest(repo, "v1").headers["Docker-Content-Digest"] == image.manifest_digest
    assert blob_sha256(registry, repo, image.layer_digests[-1]) == image.layer_digests[-1]
