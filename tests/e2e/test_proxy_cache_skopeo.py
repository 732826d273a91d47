"""A proxy-cache project in front of CNCF Distribution, pulled with skopeo: the first pull
fills it (digests equal end to end), later pulls are local (the upstream stopped, the cached
tag still pulls), a tag moved upstream is followed, a tag never pulled is a clean error,
pushes are refused; a large layer streams through with flat server memory."""

from __future__ import annotations

import hashlib
import time

import pytest

from tests.e2e.test_memory import RssSampler
from tests.support.clients import ApiClient
from tests.support.images import OciLayout, read_layout_index
from tests.support.registry_clients import (
    Registry,
    distribution_registry,
    process_group_rss_mib,
    skopeo_copy,
)
from tests.support.servers import ADMIN_PASSWORD, running_server

pytestmark = pytest.mark.e2e
CREDS = f"admin:{ADMIN_PASSWORD}"


@pytest.fixture
def proxy(tmp_path):
    """(our server as a Registry, the upstream Distribution, an admin API client); the
    proxy project is ``cache``."""
    (tmp_path / "harbor").mkdir()
    (tmp_path / "upstream").mkdir()
    with (
        running_server(tmp_path / "harbor") as server,
        distribution_registry(tmp_path / "upstream") as upstream,
    ):
        api = ApiClient(server.url, ("admin", ADMIN_PASSWORD))
        r = api.post(
            "/registries",
            json={"name": "upstream", "type": "docker-registry", "url": f"http://{upstream.host}"},
        )
        assert r.status_code == 201, r.text
        registry_id = int(r.headers["Location"].rsplit("/", 1)[1])
        r = api.post("/projects", json={"project_name": "cache", "registry_id": registry_id})
        assert r.status_code == 201, r.text
        yield Registry("harbor", server), upstream, api


def _digests(layout_dir) -> dict[str, str]:
    """Every blob file of an OCI layout checked against its name."""
    found = {}
    for path in (layout_dir / "blobs" / "sha256").iterdir():
        sha = hashlib.sha256()
        with open(path, "rb") as f:
            while block := f.read(1 << 20):
                sha.update(block)
        assert sha.hexdigest() == path.name
        found[path.name] = path.name
    return found


def _wait_cached(api: ApiClient, repo: str, tag: str, digest: str) -> None:
    path = f"/projects/cache/repositories/{repo.replace('/', '%252F')}/artifacts/{tag}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        r = api.get(path)
        if r.status_code == 200 and r.json()["digest"] == digest:
            return
        time.sleep(0.2)
    raise AssertionError(f"cache/{repo}:{tag} was not cached: {r.status_code} {r.text}")


def test_first_pull_fills_then_the_cache_serves_without_upstream(proxy, tmp_path):
    ours, upstream, api = proxy
    layout = OciLayout(tmp_path / "src")
    image = layout.add_image("v1", layers=2)
    moved = layout.add_image("v2", layers=1)
    skopeo_copy(f"oci:{layout.path}:v1", f"docker://{upstream.host}/team/app:v1")
    skopeo_copy(f"oci:{layout.path}:v1", f"docker://{upstream.host}/team/app:moving")
    ref = f"docker://{ours.host}/cache/team/app"

    first = tmp_path / "first"
    skopeo_copy(f"{ref}:v1", f"oci:{first}:v1", src_creds=CREDS)
    [entry] = read_layout_index(first)
    assert entry["digest"] == image.manifest_digest
    assert set(_digests(first)) >= {
        d.split(":")[1] for d in [image.config_digest, *image.layer_digests]
    }
    _wait_cached(api, "team/app", "v1", image.manifest_digest)
    skopeo_copy(f"{ref}:moving", f"oci:{tmp_path / 'm1'}:moving", src_creds=CREDS)
    _wait_cached(api, "team/app", "moving", image.manifest_digest)

    # the tag moves upstream: the next pull through the proxy follows it
    skopeo_copy(f"oci:{layout.path}:v2", f"docker://{upstream.host}/team/app:moving")
    skopeo_copy(f"{ref}:moving", f"oci:{tmp_path / 'm2'}:moving", src_creds=CREDS)
    [entry] = read_layout_index(tmp_path / "m2")
    assert entry["digest"] == moved.manifest_digest
    _wait_cached(api, "team/app", "moving", moved.manifest_digest)

    upstream.stop()  # from now on only the cache can answer
    second = tmp_path / "second"
    skopeo_copy(f"{ref}:v1", f"oci:{second}:v1", src_creds=CREDS)
    [entry] = read_layout_index(second)
    assert entry["digest"] == image.manifest_digest
    _digests(second)
    with pytest.raises(AssertionError, match="manifest unknown"):
        skopeo_copy(f"{ref}:never", f"oci:{tmp_path / 'never'}:never", src_creds=CREDS)
    with pytest.raises(AssertionError, match="can not push artifact to a proxy project"):
        skopeo_copy(f"oci:{layout.path}:v1", f"{ref}:pushed", dest_creds=CREDS)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_large_layer_streams_through_with_flat_memory(proxy, tmp_path):
    ours, upstream, api = proxy
    layout = OciLayout(tmp_path / "src")
    image = layout.add_image("big", layers=1, big_layer=96 << 20)
    skopeo_copy(f"oci:{layout.path}:big", f"docker://{upstream.host}/big/one:v1")
    small = layout.add_image("warm", layers=1, big_layer=4 << 20)  # warm the same path
    skopeo_copy(f"oci:{layout.path}:warm", f"docker://{upstream.host}/big/one:warm")
    ref = f"docker://{ours.host}/cache/big/one"
    skopeo_copy(f"{ref}:warm", f"oci:{tmp_path / 'warm'}:warm", src_creds=CREDS)
    _wait_cached(api, "big/one", "warm", small.manifest_digest)
    baseline = process_group_rss_mib(ours.pid_group())
    with RssSampler(ours.pid_group()) as sampler:
        skopeo_copy(f"{ref}:v1", f"oci:{tmp_path / 'back'}:v1", src_creds=CREDS)
    _digests(tmp_path / "back")
    _wait_cached(api, "big/one", "v1", image.manifest_digest)
    growth = sampler.peak - baseline
    assert sampler.samples > 5
    assert growth < 40, f"server RSS grew {growth:.0f} MiB for a 96 MiB layer"
