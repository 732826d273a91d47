"""What an operator sees and does: stopping the server (an upload in flight stays resumable),
the start banner and a busy port, the log format, and the maintenance commands."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.support.oci import RegistryClient, sha256
from tests.support.servers import ADMIN_PASSWORD, free_port, running_server

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

CONSOLE_SCRIPT = Path(sys.executable).parent / "harbor-api"
DATA = bytes(range(256)) * 4096  # 1 MiB
ACKED = 400_000
GRACE = 3


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARBOR_")}
    env.update({"HARBOR_ADMIN_PASSWORD": ADMIN_PASSWORD, **extra})
    return env


def _stream_patch_partly(server, location: str, sent: int) -> socket.socket:
    """Open a PATCH for the rest of DATA and send only ``sent`` bytes of its body."""
    path = location if location.startswith("/") else "/" + location.split("/", 3)[3]
    auth = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    rest = len(DATA) - ACKED
    head = (
        f"PATCH {path} HTTP/1.1\r\nHost: {server.host}\r\nAuthorization: Basic {auth}\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {rest}\r\n"
        f"Content-Range: {ACKED}-{len(DATA) - 1}\r\n\r\n"
    ).encode()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    sock.sendall(head + DATA[ACKED : ACKED + sent])
    return sock


@pytest.mark.parametrize("how", ["sigint-to-group", "sigterm-to-master"])
def test_shutdown_drains_within_graceful_timeout_and_the_upload_resumes(tmp_path, how):
    env = {"HARBOR_GRACEFUL_TIMEOUT": str(GRACE), "HARBOR_LOG_LEVEL": "info"}
    with running_server(tmp_path, extra_env=env) as server:
        client = RegistryClient(server.url, ("admin", ADMIN_PASSWORD))
        location = client.start_upload("library/interrupted")
        r = client.patch(location, data=DATA[:ACKED], headers={"Content-Range": f"0-{ACKED - 1}"})
        assert r.status_code == 202, r.text
        sock = _stream_patch_partly(server, location, 100_000)
        time.sleep(0.5)  # the PATCH is being read by the application
        started = time.monotonic()
        if how == "sigint-to-group":
            os.killpg(server.proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        else:
            os.kill(server.proc.pid, signal.SIGTERM)  # what a service manager does
        server.proc.wait(timeout=GRACE + 15)
        took = time.monotonic() - started
        sock.close()
        log = server.log_path.read_text()
        assert took < GRACE + 2.5, f"took {took:.1f}s\n{log}"
        assert "Perhaps out of memory" not in log, log
        assert "shutting down" in log.lower(), log
        assert "SIGKILL" not in log, log

        server.start()
        client = RegistryClient(server.url, ("admin", ADMIN_PASSWORD))
        status = client.get(location)
        assert status.status_code == 204, status.text
        assert status.headers["Range"] == f"0-{ACKED - 1}"
        r = client.patch(
            location, data=DATA[ACKED:], headers={"Content-Range": f"{ACKED}-{len(DATA) - 1}"}
        )
        assert r.status_code == 202, r.text
        assert client.put(location, params={"digest": sha256(DATA)}).status_code == 201
        blob = client.get(f"/v2/library/interrupted/blobs/{sha256(DATA)}")
        assert blob.status_code == 200 and sha256(blob.content) == sha256(DATA)


def test_a_busy_port_is_one_line_and_creates_nothing(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        data_dir = tmp_path / "never-created"
        started = time.monotonic()
        result = subprocess.run(
            [str(CONSOLE_SCRIPT), "serve", "--port", str(port), "--data-dir", str(data_dir)],
            capture_output=True,
            text=True,
            env=clean_env(),
            timeout=60,
        )
    assert result.returncode == 1, result
    assert result.stderr.strip().splitlines() == [
        f"harbor-api: cannot start: port {port} is already in use on 127.0.0.1 (another server "
        "is listening there; stop it or choose --port)"
    ]
    assert "listening on" not in result.stdout
    assert not data_dir.exists()
    assert time.monotonic() - started < 20


def test_banner_once_the_port_is_bound_and_every_log_line_is_json(tmp_path):
    port = free_port()
    stderr_path = tmp_path / "stderr.log"
    with open(stderr_path, "wb") as stderr:
        proc = subprocess.Popen(
            [
                str(CONSOLE_SCRIPT),
                "serve",
                "--port",
                str(port),
                "--data-dir",
                str(tmp_path / "data"),
            ],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=clean_env(HARBOR_LOG_LEVEL="info"),
            start_new_session=True,
        )
    try:
        first = proc.stdout.readline()
        assert first.startswith("harbor-api ") and f"listening on http://127.0.0.1:{port}" in first
        # the banner promises a bound port: it accepts right now, not a moment later
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/api/v2.0/ping", timeout=2).ok:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        assert requests.get(
            f"http://127.0.0.1:{port}/v2/nothing/here/x", timeout=5
        ).status_code in (401, 404)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        proc.stdout.close()
    lines = stderr_path.read_text().splitlines()
    entries = []
    for line in lines:
        try:
            entries.append(json.loads(line))
        except ValueError:
            pytest.fail(f"log line is not JSON: {line!r}\n" + "\n".join(lines))
    messages = " | ".join(entry["msg"] for entry in entries)
    for words in ("Listening at", "Booting worker", "shutting down", "harbor-api stopped"):
        assert words in messages, messages
    assert {"gunicorn.error", "uvicorn.error"} <= {entry["logger"] for entry in entries}


# -- harbor-api reset-password / backup / restore / version ----------------------------------

NEW_PASSWORD = "Changed4Good"


def cli(*args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CONSOLE_SCRIPT), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=clean_env(**env),
        timeout=120,
    )


def _signed_in(server) -> requests.Session:
    browser = requests.Session()
    r = browser.post(
        f"{server.url}/c/login", data={"principal": "admin", "password": ADMIN_PASSWORD}
    )
    assert r.status_code == 200, r.text
    return browser


def _status_as(server, password: str) -> int:
    return requests.get(
        f"{server.url}/api/v2.0/users/current", auth=("admin", password), timeout=10
    ).status_code


def test_reset_password_from_stdin_sets_it_and_ends_sessions(tmp_path):
    with running_server(tmp_path) as server:
        browser = _signed_in(server)
        assert browser.get(f"{server.url}/api/v2.0/users/current").status_code == 200
        assert _status_as(server, ADMIN_PASSWORD) == 200
        result = cli(
            "reset-password",
            "admin",
            "--password-stdin",
            "--data-dir",
            str(server.data_dir),
            stdin=NEW_PASSWORD + "\n",
        )
        assert result.returncode == 0, result.stderr
        assert "password of user 'admin' set; 1 browser session(s) ended" in result.stdout
        assert NEW_PASSWORD not in result.stdout + result.stderr
        assert _status_as(server, NEW_PASSWORD) == 200
        assert _status_as(server, ADMIN_PASSWORD) == 401
        assert browser.get(f"{server.url}/api/v2.0/users/current").status_code == 401
        logs = requests.get(
            f"{server.url}/api/v2.0/audit-logs",
            auth=("admin", NEW_PASSWORD),
            params={"q": "resource_type=user"},
            timeout=10,
        ).json()
        assert any("password reset" in entry["resource"] for entry in logs), logs

        weak = cli(
            "reset-password",
            "admin",
            "--password-stdin",
            "--data-dir",
            str(server.data_dir),
            stdin="short\n",
        )
        assert weak.returncode == 1 and "8-128 characters" in weak.stderr
        nobody = cli(
            "reset-password",
            "nobody",
            "--password-stdin",
            "--data-dir",
            str(server.data_dir),
            stdin=NEW_PASSWORD + "\n",
        )
        assert nobody.returncode == 1
        assert nobody.stderr.strip() == "harbor-api: there is no user named 'nobody'"
        assert _status_as(server, NEW_PASSWORD) == 200


def test_reset_password_lifts_a_login_lock(tmp_path):
    """The operator's way back in after the admin name was locked by wrong passwords."""
    with running_server(tmp_path) as server:
        for _ in range(6):
            assert _status_as(server, "wrong-" + ADMIN_PASSWORD) == 401
        assert _status_as(server, ADMIN_PASSWORD) == 401  # locked: even the right one fails
        result = cli(
            "reset-password",
            "admin",
            "--password-stdin",
            "--data-dir",
            str(server.data_dir),
            stdin=NEW_PASSWORD + "\n",
        )
        assert result.returncode == 0, result.stderr
        assert _status_as(server, NEW_PASSWORD) == 200


def test_reset_password_prompts_twice_without_echo(tmp_path):
    import pty

    with running_server(tmp_path) as server:
        server.stop()
        for second, expect_code in ((NEW_PASSWORD + "x", 1), (NEW_PASSWORD, 0)):
            controller, terminal = pty.openpty()
            proc = subprocess.Popen(
                [
                    str(CONSOLE_SCRIPT),
                    "reset-password",
                    "admin",
                    "--data-dir",
                    str(server.data_dir),
                ],
                stdin=terminal,
                stdout=subprocess.PIPE,
                stderr=terminal,
                env=clean_env(),
                start_new_session=True,
            )
            os.close(terminal)
            seen = b""
            for answer in (NEW_PASSWORD, second):
                while not seen.rstrip().endswith(b":"):
                    seen += os.read(controller, 1024)
                os.write(controller, answer.encode() + b"\n")
                seen += b" | "
            out, _ = proc.communicate(timeout=60)
            try:
                while chunk := os.read(controller, 1024):
                    seen += chunk
            except OSError:
                pass
            os.close(controller)
            assert proc.returncode == expect_code, (out, seen)
            assert b"New password:" in seen and b"Repeat it:" in seen
            assert NEW_PASSWORD.encode() not in seen  # not echoed
            if expect_code:
                assert b"the two passwords differ" in seen
        server.start()
        assert _status_as(server, NEW_PASSWORD) == 200


def test_backup_then_restore_into_an_empty_data_dir_serves_the_same_images(tmp_path):
    from tests.support.push import Pusher
    from tests.support.servers import ServerProcess

    with running_server(tmp_path) as server:
        pusher = Pusher(server.url)
        images = {
            name: pusher.image(f"library/{name}", layer=os.urandom(300_000))
            for name in ("alpine", "busybox")
        }
        archive = tmp_path / "harbor-backup.tar"
        made = cli("backup", "--data-dir", str(server.data_dir), str(archive))  # server runs
        assert made.returncode == 0, made.stderr
        assert f"backup written to {archive}" in made.stdout
        assert "backup: " in made.stderr and "MiB" in made.stderr  # progress
        key = (server.data_dir / "token").iterdir()
        keys = {p.name: p.read_bytes() for p in key}

    restored = tmp_path / "restored"
    done = cli("restore", "--data-dir", str(restored), str(archive))
    assert done.returncode == 0, done.stderr
    assert "restore: " in done.stderr
    again = cli("restore", "--data-dir", str(restored), str(archive))
    assert again.returncode == 1 and "is not empty" in again.stderr and "--force" in again.stderr
    forced = cli("restore", "--force", "--data-dir", str(restored), str(archive))
    assert forced.returncode == 0, forced.stderr
    assert {p.name: p.read_bytes() for p in (restored / "token").iterdir()} == keys

    port = free_port()
    copy = ServerProcess(
        url=f"http://127.0.0.1:{port}",
        port=port,
        data_dir=restored,
        database_url="",
        env=clean_env(HARBOR_LOG_LEVEL="warning"),
    )
    copy.start()
    try:
        client = RegistryClient(copy.url, ("admin", ADMIN_PASSWORD))
        for name, pushed in images.items():
            r = client.get(
                f"/v2/library/{name}/manifests/latest",
                headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
            )
            assert r.status_code == 200, r.text
            assert r.headers["Docker-Content-Digest"] == pushed.digest == sha256(r.content)
            for layer in r.json()["layers"] + [r.json()["config"]]:
                blob = client.get(f"/v2/library/{name}/blobs/{layer['digest']}")
                assert blob.status_code == 200 and sha256(blob.content) == layer["digest"]
    finally:
        copy.stop()


def test_backup_of_a_postgresql_configuration_says_how_instead(tmp_path):
    result = cli(
        "backup",
        "--data-dir",
        str(tmp_path),
        str(tmp_path / "b.tar"),
        HARBOR_DATABASE_URL="postgresql://postgres@127.0.0.1:5432/harbor",
    )
    assert result.returncode == 1
    assert "pg_dump" in result.stderr and "docs/operations.md" in result.stderr
    assert not (tmp_path / "b.tar").exists()


def test_version_command_and_flag():
    for args in (["version"], ["--version"]):
        result = cli(*args)
        assert result.returncode == 0 and result.stdout.strip() == "harbor-api 0.1.0"


# -- scripts/serve -----------------------------------------------------------------------------

SERVE_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "serve"


def _installed_venv(root: Path) -> Path:
    """A virtualenv directory that scripts/serve takes as installed: its harbor-api is the
    shared one (so the test never installs anything)."""
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "harbor-api").symlink_to(CONSOLE_SCRIPT)
    (root / ".installed-serve").touch()
    return root


def test_serve_script_takes_relative_paths_from_the_callers_directory(tmp_path):
    caller = tmp_path / "caller"
    caller.mkdir()
    (caller / "harbor.yml").write_text("log_level: warning\n")
    port = free_port()
    env = clean_env(
        HARBOR_VENV=str(_installed_venv(tmp_path / "venv")),
        PYTHONPATH=os.environ.get("PYTHONPATH", ""),
    )
    proc = subprocess.Popen(
        [str(SERVE_SCRIPT), "--data-dir", "rel-data", "--config=harbor.yml", "--port", str(port)],
        cwd=caller,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        banner = [proc.stdout.readline() for _ in range(4)]
        assert banner[0].startswith("harbor-api "), (banner, proc.stderr.read())
        assert f"data:            {caller / 'rel-data'}  " in banner[3], banner
        assert (caller / "rel-data" / "harbor.db").is_file()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()


def test_serve_script_first_install_shows_progress(tmp_path):
    """The install step prints what it does and pip's progress lines (a stand-in for pip
    here: a real first install downloads every dependency)."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text(
        "#!/bin/sh\n"
        f'echo "$@" > {venv}/pip-args\n'
        "echo 'Collecting connexion'\necho 'Requirement already satisfied: pyyaml'\n"
        "echo 'Installing collected packages: harbor-api'\n"
        f"ln -s {CONSOLE_SCRIPT} {venv}/bin/harbor-api\n"
    )
    (venv / "bin" / "python").chmod(0o755)
    result = subprocess.run(
        [str(SERVE_SCRIPT), "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=clean_env(HARBOR_VENV=str(venv)),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "usage: harbor-api serve" in result.stdout
    err = result.stderr
    assert "==> installing harbor-api" in err and "a minute or two" in err
    assert "Collecting connexion" in err and "Installing collected packages" in err
    assert "Requirement already satisfied" not in err
    assert "--quiet" not in (venv / "pip-args").read_text()
    assert (venv / ".installed-serve").exists()
