"""Real registry clients (skopeo, podman, oras-py, python-dxf) and a reference registry.

``Registry`` describes any ``/v2/`` endpoint under test: our ``harbor-api serve`` process or
the CNCF Distribution reference (``/usr/bin/docker-registry``), started on a free loopback
port with a throwaway root by ``distribution_registry``. Both offer ``start``/``kill``/
``stop`` so durability tests can crash and restart either one on the same data.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.support.images import (
    MT_CONFIG,
    MT_LAYER,
    MT_MANIFEST,
    canonical_json,
    sha256_digest,
    tar_bytes,
)
from tests.support.servers import ADMIN_PASSWORD, free_port

ADMIN = ("admin", ADMIN_PASSWORD)
MANIFEST_ACCEPT = ", ".join(
    [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ]
)
DISTRIBUTION_BIN = "/usr/bin/docker-registry"
DISTRIBUTION_CONFIG = """\
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:{port}
health:
  storagedriver:
    enabled: false
"""


class DistributionProcess:
    """``docker-registry serve`` in its own process group, restartable on the same root."""

    def __init__(self, tmp: Path, extra_config: str = ""):
        self.port = free_port()
        self.root = tmp / f"distribution-{self.port}"
        self.root.mkdir(parents=True, exist_ok=True)
        self.config = tmp / f"distribution-{self.port}.yml"
        self.config.write_text(
            DISTRIBUTION_CONFIG.format(root=self.root, port=self.port) + extra_config
        )
        self.log_path = tmp / f"distribution-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 20) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [DISTRIBUTION_BIN, "serve", str(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for_v2(f"http://{self.host}", self.proc, timeout, self.log_path)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=15)

    def kill(self) -> None:
        self.stop(signal.SIGKILL)


def wait_for_v2(url: str, proc: subprocess.Popen, timeout: float, log_path: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"registry exited early:\n{log_path.read_text()[-3000:]}")
        try:
            if requests.get(f"{url}/v2/", timeout=1).status_code in (200, 401):
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"registry did not answer in {timeout}s")


@contextmanager
def distribution_registry(tmp: Path, extra_config: str = ""):
    server = DistributionProcess(tmp, extra_config)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Registry:
    """A ``/v2/`` endpoint under test and how to reach it."""

    kind: str  # "harbor" (ours) or "distribution" (reference)
    server: object  # ServerProcess or DistributionProcess: start(), kill(), stop(), proc
    creds: tuple[str, str] = ADMIN
    project: str = "library"
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self):
        self.session.auth = self.creds

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def creds_arg(self) -> str:
        return ":".join(self.creds)

    def new_repo(self, hint: str = "e2e") -> str:
        return f"{self.project}/e2e-{hint}-{uuid.uuid4().hex[:8]}"

    def v2(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 60)
        return self.session.request(method, f"{self.url}/v2/{path.lstrip('/')}", **kwargs)

    def manifest(self, repo: str, ref: str) -> requests.Response:
        return self.v2("GET", f"{repo}/manifests/{ref}", headers={"Accept": MANIFEST_ACCEPT})

    def pid_group(self) -> int:
        return self.server.proc.pid


# ------------------------------------------------------------------ command-line clients
def run(cmd: list[str], timeout: float = 180) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} failed rc={proc.returncode}:\n{(proc.stderr or proc.stdout)[-3000:]}"
        )
    return proc.stdout


def skopeo_copy(
    src: str,
    dst: str,
    *,
    src_creds: str = "",
    dest_creds: str = "",
    extra: list[str] | None = None,
    timeout: float = 300,
) -> str:
    """``skopeo copy`` with TLS verification off (plain-HTTP loopback registries)."""
    cmd = [
        "skopeo",
        "copy",
        "-q",
        "--preserve-digests",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        *(extra or []),
    ]
    if src_creds:
        cmd += ["--src-creds", src_creds]
    if dest_creds:
        cmd += ["--dest-creds", dest_creds]
    return run([*cmd, src, dst], timeout)


def skopeo_inspect(ref: str, creds: str, raw: bool = False) -> dict:
    cmd = ["skopeo", "inspect", "--tls-verify=false", "--creds", creds]
    return json.loads(run([*cmd, *(["--raw"] if raw else []), ref]))


def skopeo_list_tags(ref: str, creds: str) -> list[str]:
    return json.loads(run(["skopeo", "list-tags", "--tls-verify=false", "--creds", creds, ref]))[
        "Tags"
    ]


class Podman:
    """Daemonless podman as root with all its state in a temp dir (vfs storage)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        (self.root / "tmp").mkdir(parents=True, exist_ok=True)
        self.runroot = tempfile.mkdtemp(prefix="podrun-", dir="/tmp")  # podman: < 50 chars
        self.base = [
            "podman",
            "--root",
            str(self.root / "storage"),
            "--runroot",
            self.runroot,
            "--storage-driver",
            "vfs",
            "--cgroup-manager",
            "cgroupfs",
            "--events-backend",
            "file",
            "--tmpdir",
            str(self.root / "tmp"),
        ]
        (self.root / "auth.json").write_text('{"auths": {}}')
        self.env = {
            **os.environ,
            "REGISTRY_AUTH_FILE": str(self.root / "auth.json"),
            "TMPDIR": str(self.root / "tmp"),
        }

    def __call__(self, *args: str, timeout: float = 180) -> str:
        proc = subprocess.run(
            [*self.base, *args], capture_output=True, text=True, timeout=timeout, env=self.env
        )
        if proc.returncode != 0:
            raise AssertionError(
                f"podman {' '.join(args)} failed rc={proc.returncode}:\n"
                f"{(proc.stderr or proc.stdout)[-3000:]}"
            )
        return proc.stdout

    def cleanup(self) -> None:
        """vfs layers are plain directories: drop them (podman's own reset is slow)."""
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.rmtree(self.runroot, ignore_errors=True)


# ------------------------------------------------------------------ raw /v2/ helpers
def location_url(registry: Registry, response: requests.Response) -> str:
    """The absolute upload URL from a Location header (which may be relative)."""
    return requests.compat.urljoin(registry.url + "/", response.headers["Location"])


def with_digest(url: str, digest: str) -> str:
    return url + ("&" if "?" in url else "?") + "digest=" + digest


def start_upload(registry: Registry, repo: str) -> str:
    response = registry.v2("POST", f"{repo}/blobs/uploads/")
    assert response.status_code == 202, response.text
    return location_url(registry, response)


def upload_blob(registry: Registry, repo: str, data: bytes) -> str:
    """Monolithic upload (POST, then PUT with the body and digest); returns the digest."""
    digest = sha256_digest(data)
    url = start_upload(registry, repo)
    response = registry.session.put(
        with_digest(url, digest),
        data=data,
        timeout=60,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 201, response.text
    return digest


def push_image(registry: Registry, repo: str, tag: str) -> tuple[str, list[str]]:
    """Push a tiny valid image over raw HTTP; (manifest digest, blob digests)."""
    layer = tar_bytes({"hello.txt": f"{repo}:{tag} {uuid.uuid4()}".encode()})
    layer_digest = upload_blob(registry, repo, layer)
    config = canonical_json(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        }
    )
    config_digest = upload_blob(registry, repo, config)
    manifest = canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": MT_MANIFEST,
            "config": {"mediaType": MT_CONFIG, "digest": config_digest, "size": len(config)},
            "layers": [{"mediaType": MT_LAYER, "digest": layer_digest, "size": len(layer)}],
        }
    )
    response = registry.v2(
        "PUT", f"{repo}/manifests/{tag}", data=manifest, headers={"Content-Type": MT_MANIFEST}
    )
    assert response.status_code == 201, response.text
    assert response.headers["Docker-Content-Digest"] == sha256_digest(manifest)
    return sha256_digest(manifest), [config_digest, layer_digest]


def error_codes(response: requests.Response) -> list[str]:
    try:
        return [e["code"] for e in response.json()["errors"]]
    except (ValueError, KeyError, TypeError):
        return []


def process_group_rss_mib(pgid: int) -> float:
    """Resident memory summed over every process in a process group (from /proc)."""
    total_kib = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            if int(stat[stat.rindex(")") + 2 :].split()[2]) != pgid:
                continue
            with open(f"/proc/{entry}/status") as f:
                total_kib += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        except (OSError, ValueError, StopIteration):
            continue
    return total_kib / 1024
