"""The registry adapters against real servers: another harbor-api and CNCF Distribution
(anonymous, htpasswd Basic, and token auth through our token service), TLS with and
without ``insecure``, and one image copied blob by blob each way, as replication will."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import tracemalloc
import uuid
from contextlib import contextmanager

import pytest
from harborapi import HarborAsyncClient
from harborapi.exceptions import BadRequest, NotFound
from harborapi.models import Registry as HarborRegistry
from harborapi.models import RegistryCredential, RegistryPing, RegistryUpdate

from harbor_api.adapters import (
    AdapterError,
    BlobReader,
    Credential,
    Endpoint,
    Upload,
    adapter_for,
)
from harbor_api.adapters.copy import copy_artifact
from tests.support.clients import ApiClient
from tests.support.images import MT_CONFIG, MT_LAYER, MT_MANIFEST, OciLayout, canonical_json
from tests.support.registry_clients import (
    Registry,
    distribution_registry,
    push_image,
    skopeo_copy,
)
from tests.support.servers import ADMIN_PASSWORD, running_server
from tests.support.tls import make_server_certificate

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ADMIN = Credential("basic", "admin", ADMIN_PASSWORD)
HTPASSWD_AUTH = """\
auth:
  htpasswd:
    realm: basic-realm
    path: {path}
"""
TOKEN_AUTH = """\
auth:
  token:
    realm: {realm}
    service: harbor-registry
    issuer: harbor-token-issuer
    rootcertbundle: {certificate}
"""


@pytest.fixture(scope="module")
def ours(tmp_path_factory):
    """At debug level, so the test of secrets in the log reads everything the server says."""
    with running_server(
        tmp_path_factory.mktemp("adapters-ours"), extra_env={"HARBOR_LOG_LEVEL": "debug"}
    ) as server:
        yield server


@pytest.fixture(scope="module")
def admin(ours):
    with ApiClient(ours.url, ("admin", ADMIN_PASSWORD)) as client:
        yield client


@pytest.fixture(scope="module")
def distribution(tmp_path_factory):
    with distribution_registry(tmp_path_factory.mktemp("adapters-dist")) as server:
        yield server


def _project(admin) -> str:
    name = f"rep-{uuid.uuid4().hex[:8]}"
    assert (
        admin.post(
            "/projects", json={"project_name": name, "metadata": {"public": "false"}}
        ).status_code
        == 201
    )
    return name


def _ping(admin, **body):
    return admin.post("/registries/ping", json=body)


def _unhealthy(response) -> str:
    assert response.status_code == 400, response.text
    message = response.json()["errors"][0]["message"]
    assert message.startswith("the registry is unhealthy: ")
    return message


def test_ping_anonymous_distribution(admin, distribution):
    r = _ping(admin, type="docker-registry", url=f"http://{distribution.host}")
    assert r.status_code == 200, r.text


def test_ping_distribution_with_basic_auth(admin, tmp_path):
    password = "Dist-" + uuid.uuid4().hex[:8]
    htpasswd = tmp_path / "htpasswd"
    subprocess.run(
        ["htpasswd", "-Bbc", str(htpasswd), "mirror", password], check=True, capture_output=True
    )
    with distribution_registry(tmp_path, HTPASSWD_AUTH.format(path=htpasswd)) as dist:
        url = f"http://{dist.host}"
        assert (
            _ping(
                admin, type="docker-registry", url=url, access_key="mirror", access_secret=password
            ).status_code
            == 200
        )
        message = _unhealthy(
            _ping(
                admin, type="docker-registry", url=url, access_key="mirror", access_secret="wrong"
            )
        )
        assert "refused the credential" in message and "wrong" not in message
        message = _unhealthy(_ping(admin, type="docker-registry", url=url))
        assert "requires credentials" in message
        # and the adapter works through the Basic challenge
        repo = f"team/app-{uuid.uuid4().hex[:6]}"
        with adapter_for(
            Endpoint(url, "docker-registry", credential=Credential("basic", "mirror", password))
        ) as a:
            a.push_blob(repo, _digest(b"hello"), 5, iter([b"hel", b"lo"]))
            assert a.blob_exists(repo, _digest(b"hello"))


def test_ping_distribution_with_token_auth(admin, ours, tmp_path):
    config = TOKEN_AUTH.format(
        realm=f"{ours.url}/service/token", certificate=ours.data_dir / "token" / "certificate.pem"
    )
    with distribution_registry(tmp_path, config) as dist:
        url = f"http://{dist.host}"
        assert (
            _ping(
                admin,
                type="docker-registry",
                url=url,
                access_key="admin",
                access_secret=ADMIN_PASSWORD,
            ).status_code
            == 200
        )
        message = _unhealthy(
            _ping(admin, type="docker-registry", url=url, access_key="admin", access_secret="wrong")
        )
        assert "token realm" in message and "refused the credential" in message
        project = _project(admin)
        repo = f"{project}/app"
        with adapter_for(Endpoint(url, "docker-registry", credential=ADMIN)) as adapter:
            adapter.push_blob(repo, _digest(b"tokened"), 7, iter([b"tokened"]))
            assert adapter.blob_exists(repo, _digest(b"tokened"))
            assert len(adapter.http._tokens) >= 1  # one token per scope, reused


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")  # start-up
def test_ping_tls_needs_insecure_for_an_untrusted_certificate(admin, tmp_path):
    tls = make_server_certificate(tmp_path / "tls", ["127.0.0.1"])
    with running_server(
        tmp_path,
        extra_args=["--tls-cert", str(tls.cert), "--tls-key", str(tls.key)],
        scheme="https",
    ) as other:
        body = {
            "type": "harbor",
            "url": other.url,
            "access_key": "admin",
            "access_secret": ADMIN_PASSWORD,
        }
        message = _unhealthy(_ping(admin, **body, insecure=False))
        assert "does not verify" in message and "insecure" in message
        assert _ping(admin, **body, insecure=True).status_code == 200


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_list_and_copy_between_harbor_api_and_distribution(admin, ours, distribution):
    project = _project(admin)
    source_repo = f"{project}/app"
    pushed, blobs = push_image(Registry("harbor", ours), source_repo, "v1")
    harbor = adapter_for(Endpoint(ours.url, "harbor", credential=ADMIN))
    dist = adapter_for(Endpoint(f"http://{distribution.host}", "docker-registry"))
    with harbor, dist:
        assert project in harbor.list_namespaces()
        assert harbor.list_repositories(f"{project}/**") == [source_repo]
        assert harbor.list_tags(source_repo) == ["v1"]
        [artifact] = harbor.list_artifacts(source_repo, "v*")
        assert artifact.digest == pushed and artifact.tags == ("v1",)
        assert harbor.list_artifacts(source_repo, "nope*") == []
        with adapter_for(Endpoint(ours.url, "docker-registry", credential=ADMIN)) as plain:
            assert source_repo in plain.list_repositories(f"{project}/*")  # /v2/_catalog
            assert project in plain.list_namespaces()
            assert [a.digest for a in plain.list_artifacts(source_repo)] == [pushed]

        # harbor-api -> Distribution, one streamed PUT per blob
        target = f"mirror/{project}/app"
        digest, report = copy_artifact(harbor, dist, source_repo, "v1", target)
        assert digest == pushed and report.blobs_sent == 2 and report.manifests == 1
        assert target in dist.list_repositories("mirror/**")
        assert dist.list_tags(target) == ["v1"]
        assert dist.head_manifest(target, "v1").digest == pushed
        assert [a.digest for a in dist.list_artifacts(target)] == [pushed]
        again = copy_artifact(harbor, dist, source_repo, "v1", target)[1]
        assert again.blobs_present == 2 and again.blobs_sent == 0

        # Distribution -> harbor-api, chunked, into a project the adapter creates
        back_project = f"back-{uuid.uuid4().hex[:6]}"
        assert harbor.create_namespace(back_project) is True
        assert harbor.create_namespace(back_project) is False
        first = f"{back_project}/app"
        digest, report = copy_artifact(dist, harbor, target, "v1", first, "copied", chunk_size=64)
        assert digest == pushed and report.blobs_sent == 2
        assert harbor.head_manifest(first, "copied").digest == pushed
        # a second repository of the destination gets the blobs by mount, not by upload
        second = f"{back_project}/other"
        report = copy_artifact(dist, harbor, target, "v1", second, mount_from=[first])[1]
        assert report.blobs_mounted == 2 and report.blobs_sent == 0
        for blob in blobs:
            assert harbor.blob_exists(second, blob)
        harbor.delete_tag(first, "copied")
        assert harbor.list_tags(first) == []
        dist.delete_tag(target, "v1")
        assert dist.head_manifest(target, "v1") is None


@pytest.mark.parametrize("kind", ["harbor", "docker-registry"])
def test_chunked_upload_resumes_from_the_servers_offset(kind, admin, ours, distribution):
    data = os.urandom(300_000)
    digest = _digest(data)
    project = _project(admin)
    repo = f"{project}/resume"
    if kind == "harbor":
        endpoint = Endpoint(ours.url, "harbor", credential=ADMIN)
    else:
        endpoint = Endpoint(f"http://{distribution.host}", "docker-registry")
    opened: list[int] = []

    def source_failing_after(limit: int):
        @contextmanager
        def source(offset: int):
            opened.append(offset)
            if len(opened) > limit:
                raise AdapterError("the source went away")
            yield _reader(data, offset)

        return source

    with adapter_for(endpoint) as adapter:
        upload = adapter.start_upload(repo)
        with pytest.raises(AdapterError, match="went away"):
            adapter.push_blob_chunked(
                repo, digest, len(data), source_failing_after(2), chunk_size=100_000, upload=upload
            )
    assert opened == [0, 100_000, 200_000]
    opened.clear()
    interrupted = Upload(repo, upload.location)  # what a restarted task remembers
    with adapter_for(endpoint) as adapter:
        adapter.push_blob_chunked(
            repo, digest, len(data), source_failing_after(9), chunk_size=100_000, upload=interrupted
        )
        assert opened == [200_000]  # the server had two chunks: only the third is sent
        assert adapter.blob_exists(repo, digest)
        with adapter.pull_blob(repo, digest) as reader:
            assert _digest(b"".join(reader.chunks)) == digest


def _reader(data: bytes, offset: int):
    view = data[offset:]
    return BlobReader(
        len(view), offset, iter(view[i : i + 8192] for i in range(0, len(view), 8192))
    )


def _random_chunks(total: int, seed: bytes, chunk: int = 1 << 20):
    """``total`` pseudo-random bytes in chunks, and their digest once consumed."""
    block = hashlib.sha256(seed).digest() * (chunk // 32)
    sent = 0
    while sent < total:
        piece = block[: min(chunk, total - sent)]
        sent += len(piece)
        yield piece


@pytest.mark.parametrize("chunk_size", [None, 8 << 20], ids=["monolithic", "chunked"])
def test_copy_streams_blobs_with_flat_memory(chunk_size, admin, ours, distribution):
    size = 64 << 20
    seed = uuid.uuid4().bytes
    digest = _digest(b"".join(_random_chunks(size, seed)))  # hashed here, outside the trace
    project = _project(admin)
    src_repo, dst_repo = f"big/{project}", f"{project}/big"
    config = canonical_json(
        {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [digest]}}
    )
    manifest = canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": MT_MANIFEST,
            "config": {"mediaType": MT_CONFIG, "digest": _digest(config), "size": len(config)},
            "layers": [{"mediaType": MT_LAYER, "digest": digest, "size": size}],
        }
    )
    with (
        adapter_for(Endpoint(f"http://{distribution.host}", "docker-registry")) as dist,
        adapter_for(Endpoint(ours.url, "harbor", credential=ADMIN)) as harbor,
    ):
        dist.push_blob(src_repo, digest, size, _random_chunks(size, seed))
        dist.push_blob(src_repo, _digest(config), len(config), [config])
        dist.put_manifest(src_repo, "v1", manifest, MT_MANIFEST)
        tracemalloc.start()
        try:
            copied, report = copy_artifact(
                dist, harbor, src_repo, "v1", dst_repo, chunk_size=chunk_size
            )
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert copied == _digest(manifest) and report.bytes_sent == size + len(config)
        assert peak < 16 << 20, f"peak {peak / 2**20:.1f} MiB while copying 64 MiB"
        assert harbor.head_manifest(dst_repo, "v1").digest == copied


def test_harborapi_manages_registries(ours):
    """The PyPI ``harborapi`` client, unchanged: create, list, read, ping, info, update,
    delete, and the adapter listings."""

    async def scenario():
        client = HarborAsyncClient(
            url=f"{ours.url}/api/v2.0", username="admin", secret=ADMIN_PASSWORD
        )
        name = f"hapi-{uuid.uuid4().hex[:8]}"
        location = await client.create_registry(
            HarborRegistry(
                name=name,
                type="harbor",
                url=ours.url,
                insecure=False,
                credential=RegistryCredential(
                    type="basic", access_key="admin", access_secret=ADMIN_PASSWORD
                ),
            )
        )
        registry_id = int(location.rsplit("/", 1)[1])
        got = await client.get_registry(registry_id)
        assert got.name == name and got.credential.access_secret == "*****"
        assert [r.id for r in await client.get_registries(query=f"name={name}")] == [registry_id]
        await client.check_registry_status(RegistryPing(id=registry_id))
        with pytest.raises(BadRequest, match="unhealthy"):
            await client.check_registry_status(
                RegistryPing(type="harbor", url=ours.url, access_key="admin", access_secret="wrong")
            )
        info = await client.get_registry_info(registry_id)
        assert info.type == "harbor" and "event_based" in info.supported_triggers
        assert set((await client.get_registry_providers()).root) == {"harbor", "docker-registry"}
        assert await client.get_registry_adapters() == ["docker-registry", "harbor"]
        await client.update_registry(registry_id, RegistryUpdate(description="via harborapi"))
        assert (await client.get_registry(registry_id)).description == "via harborapi"
        await client.delete_registry(registry_id)
        with pytest.raises(NotFound):
            await client.get_registry(registry_id)

    asyncio.run(scenario())


def test_copy_a_multi_arch_index_children_first(admin, ours, distribution, tmp_path):
    layout = OciLayout(tmp_path / "layout")
    index = layout.add_index("multi", [("linux", "amd64"), ("linux", "arm64")])
    project = _project(admin)
    source_repo = f"{project}/multi"
    skopeo_copy(
        f"oci:{layout.path}:multi",
        f"docker://{ours.host}/{source_repo}:multi",
        dest_creds=f"admin:{ADMIN_PASSWORD}",
        extra=["--all"],
    )
    with (
        adapter_for(Endpoint(ours.url, "harbor", credential=ADMIN)) as harbor,
        adapter_for(Endpoint(f"http://{distribution.host}", "docker-registry")) as dist,
    ):
        target = f"multi/{project}"
        digest, report = copy_artifact(harbor, dist, source_repo, "multi", target)
        assert digest == index.digest and report.manifests == 3
        assert dist.head_manifest(target, "multi").digest == index.digest
        for child in index.children:
            assert dist.head_manifest(target, child.manifest_digest) is not None
        assert dist.list_tags(target) == ["multi"]  # children travel by digest, untagged


def test_secrets_stay_out_of_the_debug_log(admin, ours, distribution):
    secret = "Debug-Secret-" + uuid.uuid4().hex
    r = admin.post(
        "/registries",
        json={
            "name": f"dbg-{uuid.uuid4().hex[:8]}",
            "type": "docker-registry",
            "url": f"http://{distribution.host}",
            "credential": {"type": "basic", "access_key": "x", "access_secret": secret},
        },
    )
    assert r.status_code == 201, r.text
    registry_id = int(r.headers["Location"].rsplit("/", 1)[1])
    assert (
        admin.put(f"/registries/{registry_id}", json={"access_secret": secret + "-new"}).status_code
        == 200
    )
    assert admin.post("/registries/ping", json={"id": registry_id}).status_code == 200
    _unhealthy(_ping(admin, type="harbor", url=ours.url, access_key="admin", access_secret=secret))
    assert admin.delete(f"/registries/{registry_id}").status_code == 200
    log = ours.log_path.read_text(errors="replace")
    assert '"level": "debug"' in log  # the server did say everything it says
    assert secret not in log
