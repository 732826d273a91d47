"""Garbage collection online, under races (docs/gc.md): pushes and re-pushes of the same
layers (plain HTTP pushers that skip a layer when HEAD says it exists, as docker does, and
skopeo) and deletes of images sharing those layers run while collections run back to back
with a time window of 0 s, so every unreferenced blob is claimable the moment it is. Then
every acknowledged image that was not deleted pulls: its manifest by digest, every blob
matching its digest. Bounded: traffic stops once enough images were acknowledged and
collections ran (or after TRAFFIC_SECONDS)."""

from __future__ import annotations

import json
import os
import random
import threading
import time
from dataclasses import dataclass, field

import pytest

from tests.support.images import OciLayout
from tests.support.oci import OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, RegistryClient, canonical, sha256
from tests.support.registry_clients import run
from tests.support.servers import ADMIN_PASSWORD, postgres_database, running_server

pytestmark = pytest.mark.e2e

TRAFFIC_SECONDS = 20.0  # at most; traffic stops once the targets below are met
TARGET_KEPT, TARGET_RUNS = 8, 3
SHARED_LAYERS = [os.urandom(4096) + bytes([i]) for i in range(6)]
AUTH = ("admin", ADMIN_PASSWORD)


@pytest.fixture(params=["sqlite", "postgresql"])
def gc_server(request, tmp_path):
    env = {"HARBOR_GC_TIME_WINDOW_SECONDS": "0", "HARBOR_JOB_WORKERS": "2"}
    if request.param == "postgresql":
        with postgres_database() as url, running_server(tmp_path, url, extra_env=env) as srv:
            yield srv
    else:
        with running_server(tmp_path, extra_env=env) as srv:
            yield srv


@dataclass
class Ledger:
    """What the registry acknowledged, and what was deleted since."""

    kept: list[tuple[str, str, list[str]]] = field(default_factory=list)  # repo, digest, blobs
    deletable: list[tuple[str, str]] = field(default_factory=list)
    refused: int = 0
    gc_runs: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def enough(self) -> bool:
        return len(self.kept) >= TARGET_KEPT and self.gc_runs >= TARGET_RUNS

    def acknowledged(self, repo: str, digest: str, blobs: list[str], keep: bool) -> None:
        with self.lock:
            if keep:
                self.kept.append((repo, digest, blobs))
            else:
                self.deletable.append((repo, digest))


def _image(rng: random.Random) -> tuple[bytes, list[bytes], bytes]:
    layers = rng.sample(SHARED_LAYERS, 2)
    config = canonical({"os": "linux", "architecture": "amd64", "n": rng.random()})
    manifest = canonical(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": sha256(config), "size": len(config)},
            "layers": [
                {"mediaType": OCI_LAYER, "digest": sha256(x), "size": len(x)} for x in layers
            ],
        }
    )
    return config, layers, manifest


def _http_pusher(url: str, repo: str, seed: int, ledger: Ledger, until: float) -> None:
    rng = random.Random(seed)
    with RegistryClient(url, AUTH) as client:
        n = 0
        while time.monotonic() < until and not ledger.enough():
            config, layers, manifest = _image(rng)
            n += 1
            for _attempt in range(5):  # a refused push is pushed again, as clients retry
                if _push(client, repo, f"t{seed}-{n}", config, layers, manifest):
                    blobs = [sha256(b) for b in [config, *layers]]
                    ledger.acknowledged(repo, sha256(manifest), blobs, keep=rng.random() < 0.6)
                    break
                with ledger.lock:
                    ledger.refused += 1


def _push(client, repo: str, tag: str, config: bytes, layers: list[bytes], manifest: bytes):
    """Push as docker does: a layer HEAD reports is skipped. True when acknowledged."""
    uploaded = all(
        client.head(f"/v2/{repo}/blobs/{sha256(blob)}").status_code == 200  # skipped
        or _upload(client, repo, blob)
        for blob in [config, *layers]
    )
    if not uploaded:
        return False
    r = client.push_manifest(repo, tag, manifest)
    assert r.status_code in (201, 400, 404), r.text  # 400/404: refused, never acknowledged
    return r.status_code == 201


def _upload(client: RegistryClient, repo: str, blob: bytes) -> bool:
    """A monolithic upload; False when refused (its blob was being collected)."""
    location = client.start_upload(repo)
    r = client.put(location, params={"digest": sha256(blob)}, data=blob)
    assert r.status_code in (201, 404), r.text  # 404 BLOB_UPLOAD_UNKNOWN: upload it again
    return r.status_code == 201


def _skopeo_pusher(host: str, repo: str, seed: int, tmp, ledger: Ledger, until: float) -> None:
    rng = random.Random(seed)
    n = 0
    while time.monotonic() < until and not ledger.enough():
        n += 1
        layout = OciLayout(tmp / f"layout-{seed}-{n}")
        config, layers, manifest = _image(rng)
        for blob in [config, *layers, manifest]:
            layout.put_blob(blob)
        layout._tag(
            {"mediaType": OCI_MANIFEST, "digest": sha256(manifest), "size": len(manifest)}, "v"
        )
        try:
            run(
                [
                    "skopeo",
                    "copy",
                    "-q",
                    "--preserve-digests",
                    "--dest-tls-verify=false",
                    "--dest-creds",
                    f"{AUTH[0]}:{AUTH[1]}",
                    "--retry-times",
                    "0",
                    f"oci:{layout.path}:v",
                    f"docker://{host}/{repo}:s{seed}-{n}",
                ],
                timeout=60,
            )
        except AssertionError:  # refused (a layer claimed by a collection): not acknowledged
            with ledger.lock:
                ledger.refused += 1
            continue
        blobs = [sha256(b) for b in [config, *layers]]
        ledger.acknowledged(repo, sha256(manifest), blobs, keep=True)


def _deleter(url: str, ledger: Ledger, until: float) -> None:
    with RegistryClient(url, AUTH) as client:
        while time.monotonic() < until and not ledger.enough():
            with ledger.lock:
                target = ledger.deletable.pop() if ledger.deletable else None
            if target is None:
                time.sleep(0.01)
                continue
            repo, digest = target
            assert client.delete(f"/v2/{repo}/manifests/{digest}").status_code == 202


def _collector(admin, ledger: Ledger, until: float) -> None:
    while time.monotonic() < until and not ledger.enough():
        _gc(admin, {"workers": 2, "delete_untagged": ledger.gc_runs % 2 == 1})
        ledger.gc_runs += 1


def _gc(admin, parameters: dict) -> None:
    r = admin.post(
        "/api/v2.0/system/gc/schedule",
        json={"schedule": {"type": "Manual"}, "parameters": parameters},
    )
    assert r.status_code == 201, r.text
    location = r.headers["Location"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = admin.get(location).json()["job_status"]
        if status != "InProgress":
            assert status == "Succeed", admin.get(location + "/log").text
            return
        time.sleep(0.02)
    raise AssertionError("gc did not finish")


def _state(server, repo: str, digest: str) -> dict:
    """What the database says of a blob (for a failure message)."""
    from sqlalchemy import select

    from harbor_api.db.models import Blob, Repository, RepositoryBlob
    from tests.support.jobs import server_database

    with server_database(server) as db, db.read() as s:
        row = s.execute(select(Blob).where(Blob.digest == digest)).scalar()
        link = s.scalar(
            select(RepositoryBlob.id)
            .join(Repository, Repository.id == RepositoryBlob.repository_id)
            .where(Repository.name == repo, RepositoryBlob.digest == digest)
        )
        return {
            "row": row and (row.id, row.status, str(row.creation_time), str(row.touched_at)),
            "link": link,
            "bytes": (
                server.data_dir / "storage" / "blobs" / "sha256" / digest[7:9] / digest[7:]
            ).exists(),
        }


def test_acknowledged_images_survive_collections_running_during_pushes(gc_server, tmp_path):
    host = gc_server.url.removeprefix("http://")
    ledger = Ledger()
    until = time.monotonic() + TRAFFIC_SECONDS
    with RegistryClient(gc_server.url, AUTH) as admin:
        repos = [f"library/race-{i}" for i in range(2)]
        threads = [
            threading.Thread(
                target=_http_pusher, args=(gc_server.url, repos[i % 2], i, ledger, until)
            )
            for i in range(3)
        ]
        threads += [
            threading.Thread(
                target=_skopeo_pusher, args=(host, repos[i % 2], 100 + i, tmp_path, ledger, until)
            )
            for i in range(2)
        ]
        threads += [
            threading.Thread(target=_deleter, args=(gc_server.url, ledger, until)),
            threading.Thread(target=_collector, args=(admin, ledger, until)),
        ]
        errors: list[BaseException] = []

        def guarded(target):
            def wrapper(*args):
                try:
                    target(*args)
                except BaseException as exc:  # reported by the test thread
                    errors.append(exc)

            return wrapper

        for t in threads:
            t._target = guarded(t._target)  # type: ignore[attr-defined]
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        _gc(admin, {"workers": 2})  # one more with everything quiet
        assert ledger.gc_runs >= 2 and len(ledger.kept) >= 3, ledger  # a loaded machine
        for repo, digest, blobs in ledger.kept:
            r = admin.get(f"/v2/{repo}/manifests/{digest}", headers={"Accept": OCI_MANIFEST})
            assert r.status_code == 200 and sha256(r.content) == digest, (repo, digest)
            for blob in blobs:
                r = admin.get(f"/v2/{repo}/blobs/{blob}")
                assert r.status_code == 200, (repo, digest, blob, _state(gc_server, repo, blob))
                assert sha256(r.content) == blob
        print(
            json.dumps(
                {"kept": len(ledger.kept), "refused": ledger.refused, "gc_runs": ledger.gc_runs}
            )
        )
