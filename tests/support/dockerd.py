"""The real Docker engine (``dockerd`` of the docker.io package) for end-to-end tests.

``running_dockerd`` starts a private daemon: its own ``--data-root``, ``--exec-root``,
``--pidfile``, unix socket and (empty) ``daemon.json``, no networking (``--bridge=none``,
no iptables) and vfs storage, so it neither needs nor touches the machine's Docker set-up.
It stops the daemon and the containerd it started, even when a test failed.

``DockerClient`` runs the CLI against that daemon with a private ``DOCKER_CONFIG``, so
credentials stored by one test's ``docker login`` are not seen by another's. Images come
from OCI layouts written by ``tests.support.images`` (there is no internet to pull from):
skopeo turns a layout into a docker-archive and ``docker load`` reads it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from tests.support.images import OciLayout
from tests.support.registry_clients import run

DOCKERD = "/usr/sbin/dockerd"
# The CLI shipped with the daemon (a newer one elsewhere on PATH may speak a newer API).
DOCKER_CLI = "/usr/bin/docker" if os.path.exists("/usr/bin/docker") else "docker"
CERTS_D = Path("/etc/docker/certs.d")  # fixed in dockerd; not configurable per daemon


class DockerDaemon:
    def __init__(self, tmp: Path, env: dict[str, str] | None = None):
        tmp.mkdir(parents=True, exist_ok=True)
        self.data_root = tmp / "data-root"
        self.log_path = tmp / "dockerd.log"
        self.config_file = tmp / "daemon.json"
        # not /etc/docker/daemon.json; the trust key (a 20.10 leftover) not in /etc/docker either
        self.config_file.write_text(json.dumps({"deprecated-key-path": str(tmp / "key.json")}))
        # exec-root holds unix sockets (containerd's among them): keep its path short
        self.exec_root = Path(tempfile.mkdtemp(prefix="dockerd-", dir="/tmp"))
        self.socket = self.exec_root / "docker.sock"
        self.pidfile = self.exec_root / "dockerd.pid"
        self.host = f"unix://{self.socket}"
        # the machine's DOCKER_* and proxy settings must not reach this daemon or its CLI
        self.client_env = {
            k: v
            for k, v in os.environ.items()
            if not k.upper().startswith(
                ("DOCKER_", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY")
            )
        }
        self.env = {**self.client_env, **(env or {})}
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    DOCKERD,
                    "--iptables=false",
                    "--ip6tables=false",
                    "--bridge=none",
                    "--storage-driver=vfs",
                    "--data-root",
                    str(self.data_root),
                    "--exec-root",
                    str(self.exec_root),
                    "--pidfile",
                    str(self.pidfile),
                    "--config-file",
                    str(self.config_file),
                    "-H",
                    self.host,
                ],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dockerd exited early:\n{self.log_tail()}")
            probe = subprocess.run(
                [DOCKER_CLI, "-H", self.host, "info", "--format", "{{.ServerVersion}}"],
                capture_output=True,
                text=True,
                timeout=30,
                env=self.env,
            )
            if probe.returncode == 0 and probe.stdout.strip():
                return
            time.sleep(0.2)
        raise RuntimeError(f"dockerd did not answer in {timeout}s:\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM (dockerd stops its containerd), then SIGKILL whatever is left."""
        containerd_pid = self._containerd_pid()
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        for pid in filter(None, [containerd_pid, self._containerd_pid()]):
            _kill_and_reap(pid)
        # dockerd bind-mounts its data-root onto itself (unmounted on a clean shutdown only)
        _unmount_under(self.data_root)
        _unmount_under(self.exec_root)
        shutil.rmtree(self.exec_root, ignore_errors=True)
        shutil.rmtree(self.data_root, ignore_errors=True)

    def _containerd_pid(self) -> int | None:
        try:
            return int((self.exec_root / "containerd" / "containerd.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def log_tail(self, n: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])


def _unmount_under(path: Path) -> None:
    """Lazily unmount every mount at or below ``path``, deepest first."""
    with open("/proc/self/mounts") as f:
        points = [line.split()[1].replace("\\040", " ") for line in f]
    prefix = str(path)
    for point in sorted(
        {p for p in points if p == prefix or p.startswith(prefix + "/")}, key=len, reverse=True
    ):
        subprocess.run(["umount", "-l", point], capture_output=True, timeout=30)


def _kill_and_reap(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)


@contextmanager
def running_dockerd(tmp: Path, env: dict[str, str] | None = None):
    daemon = DockerDaemon(tmp, env)
    try:
        daemon.start()
        yield daemon
    finally:
        daemon.stop()


class DockerClient:
    """The docker CLI bound to one daemon and one private config directory."""

    def __init__(self, daemon: DockerDaemon, config_dir: Path):
        self.daemon = daemon
        self.config_dir = Path(config_dir)
        self.config_dir.mkdir(parents=True, exist_ok=True)
        self.env = {
            **daemon.client_env,
            "DOCKER_HOST": daemon.host,
            "DOCKER_CONFIG": str(self.config_dir),
        }

    def run(
        self, *args: str, input: str | None = None, timeout: float = 180
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [DOCKER_CLI, *args],
            capture_output=True,
            text=True,
            input=input,
            timeout=timeout,
            env=self.env,
        )

    def __call__(self, *args: str, input: str | None = None, timeout: float = 180) -> str:
        """Run; the command must succeed. Returns stdout and stderr together."""
        proc = self.run(*args, input=input, timeout=timeout)
        output = proc.stdout + proc.stderr
        if proc.returncode != 0:
            raise AssertionError(
                f"docker {' '.join(args)} failed rc={proc.returncode}:\n{output[-3000:]}"
            )
        return output

    def fails(self, *args: str, input: str | None = None, timeout: float = 180) -> str:
        """Run; the command must fail. Returns what it printed (stdout and stderr)."""
        proc = self.run(*args, input=input, timeout=timeout)
        output = proc.stdout + proc.stderr
        assert proc.returncode != 0, f"docker {' '.join(args)} succeeded:\n{output}"
        return output

    def login(self, host: str, user: str, password: str) -> str:
        return self("login", "-u", user, "--password-stdin", host, input=password)

    def inspect(self, ref: str) -> dict:
        return json.loads(self("image", "inspect", ref, "--format", "{{json .}}"))

    def repo_digest(self, ref: str, repo: str) -> str:
        """The manifest digest the daemon recorded for ``repo`` (after a push or pull)."""
        [digest] = [
            d.split("@", 1)[1]
            for d in self.inspect(ref)["RepoDigests"]
            if d.split("@", 1)[0] == repo
        ]
        return digest

    def stored_auths(self) -> dict:
        path = self.config_dir / "config.json"
        return json.loads(path.read_text()).get("auths", {}) if path.exists() else {}

    def load_layout(self, layout: OciLayout, tag: str, ref: str, work: Path) -> None:
        """``docker load`` the layout's image ``tag`` as ``ref`` (via a docker-archive)."""
        archive = work / f"{tag}-{abs(hash(ref))}.tar"
        run(["skopeo", "copy", "-q", f"oci:{layout.path}:{tag}", f"docker-archive:{archive}:{ref}"])
        try:
            output = self("load", "-i", str(archive))
        finally:
            archive.unlink(missing_ok=True)
        assert f"Loaded image: {ref}" in output, output


@contextmanager
def trusted_ca(registry_host: str, ca_cert: Path):
    """Put ``ca.crt`` in ``/etc/docker/certs.d/<host:port>/`` for the block, then remove it."""
    directory = CERTS_D / registry_host
    directory.mkdir(parents=True, exist_ok=False)
    try:
        shutil.copyfile(ca_cert, directory / "ca.crt")
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)
        try:
            CERTS_D.rmdir()  # only if nothing else lives there
        except OSError:
            pass
