"""A full disk (ENOSPC) is a clear 507, never a 500: the partial upload is left resumable
(or removed), reads keep working, and pushes succeed again once space is freed.

The data directory is a small tmpfs mounted for the test (needs root), so filling it is
quick and touches nothing else.
"""

from __future__ import annotations

import errno
import os
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.oci import RegistryClient, sha256
from tests.support.servers import ADMIN_PASSWORD, ServerProcess, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(180)]

MiB = 1 << 20
FIRST = bytes(range(256)) * 400  # 102,400 bytes: a session's first chunk
CHUNK = os.urandom(3 * MiB)  # more than the space left once the disk is "full"


@pytest.fixture
def small_fs(tmp_path):
    """A 64 MiB tmpfs at ``tmp_path / "fs"``; unmounted afterwards."""
    mount = tmp_path / "fs"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@contextmanager
def server_on(data_dir: Path, database_url: str = "", extra_env: dict | None = None):
    """A server whose data dir is ``data_dir`` itself (its log goes beside it, outside)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARBOR_")}
    env.update(
        {
            "HARBOR_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "HARBOR_LOG_LEVEL": "warning",
            **(extra_env or {}),
        }
    )
    if database_url:
        env["HARBOR_DATABASE_URL"] = database_url
    server = ServerProcess(
        url=f"http://127.0.0.1:{port}",
        port=port,
        data_dir=data_dir,
        database_url=database_url,
        env=env,
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def fill(directory: Path, leave: int) -> Path:
    """Fill the file system of ``directory`` up to ``leave`` free bytes (roughly)."""
    filler = directory / "filler"
    block = b"\0" * MiB
    with open(filler, "wb") as out:
        try:
            while True:
                out.write(block)
                out.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    size = filler.stat().st_size
    os.truncate(filler, max(size - leave, 0))
    return filler


def assert_storage_full(response) -> None:
    assert response.status_code == 507, (response.status_code, response.text)
    error = response.json()["errors"][0]
    assert error["code"] == "INSUFFICIENT_STORAGE"
    assert "full" in error["message"]


def leftovers(storage: Path) -> list[str]:
    return sorted(str(p.relative_to(storage)) for p in storage.rglob("*") if ".tmp-" in p.name)


@pytest.mark.parametrize("database", ["on-the-full-disk", "elsewhere"])
def test_full_disk_on_uploads_is_a_clear_507_and_recovers(small_fs, tmp_path, database):
    url = "" if database == "on-the-full-disk" else f"sqlite:///{tmp_path / 'harbor.db'}"
    with server_on(small_fs, url) as server:
        storage = server.data_dir / "storage"
        client = RegistryClient(server.url, ("admin", ADMIN_PASSWORD))
        repo = "library/full"
        before = client.push_blob(repo, b"pushed before the disk filled")
        session = client.start_upload(repo)
        r = client.patch(session, data=FIRST, headers={"Content-Range": f"0-{len(FIRST) - 1}"})
        assert r.status_code == 202, r.text
        fresh = client.start_upload(repo)  # a session that will get no byte

        filler = fill(small_fs, leave=MiB // 2)

        # PATCH: refused, and the session stays where it was, resumable
        r = client.patch(
            session,
            data=CHUNK,
            headers={"Content-Range": f"{len(FIRST)}-{len(FIRST) + len(CHUNK) - 1}"},
        )
        assert_storage_full(r)
        status = client.get(session)
        assert status.status_code == 204 and status.headers["Range"] == f"0-{len(FIRST) - 1}"
        # PUT with the whole blob, and the monolithic POST
        assert_storage_full(client.put(fresh, params={"digest": sha256(CHUNK)}, data=CHUNK))
        assert_storage_full(
            client.post(f"/v2/{repo}/blobs/uploads/", params={"digest": sha256(CHUNK)}, data=CHUNK)
        )
        assert leftovers(storage) == []
        assert client.get(f"/v2/{repo}/blobs/{sha256(CHUNK)}").status_code == 404

        # reads keep working
        assert client.get(f"/v2/{repo}/blobs/{before}").content == b"pushed before the disk filled"
        assert client.get(f"{server.url}/api/v2.0/projects").status_code == 200

        filler.unlink()  # space is back: the same pushes succeed
        r = client.patch(
            session,
            data=CHUNK,
            headers={"Content-Range": f"{len(FIRST)}-{len(FIRST) + len(CHUNK) - 1}"},
        )
        assert r.status_code == 202, r.text
        r = client.put(r.headers["Location"], params={"digest": sha256(FIRST + CHUNK)})
        assert r.status_code == 201, r.text
        r = client.put(fresh, params={"digest": sha256(CHUNK)}, data=CHUNK)
        assert r.status_code == 201, r.text
        other = CHUNK[::-1]
        r = client.post(f"/v2/{repo}/blobs/uploads/", params={"digest": sha256(other)}, data=other)
        assert r.status_code == 201, r.text
        assert client.get(f"/v2/{repo}/blobs/{sha256(FIRST + CHUNK)}").content == FIRST + CHUNK


def test_full_disk_under_the_database_is_a_clear_error_not_500(small_fs):
    """The management API's writes when the database's disk is full: 507, reads go on."""
    with server_on(small_fs) as server:
        api = RegistryClient(f"{server.url}/api/v2.0", ("admin", ADMIN_PASSWORD))
        filler = fill(small_fs, leave=0)
        statuses = []
        for i in range(40):  # enough new rows that SQLite needs new pages
            r = api.post(
                "/projects",
                json={"project_name": f"full-{i}-" + "x" * 200, "metadata": {"public": "false"}},
            )
            statuses.append(r.status_code)
            if r.status_code != 201:
                break
        assert r.status_code == 507, (statuses, r.text)
        assert r.json()["errors"][0]["code"] == "INSUFFICIENT_STORAGE"
        assert "full" in r.json()["errors"][0]["message"]
        assert api.get("/projects").status_code == 200
        assert api.get("/users/current").status_code == 200
        filler.unlink()
        r = api.post(
            "/projects", json={"project_name": "after-full", "metadata": {"public": "false"}}
        )
        assert r.status_code == 201, r.text
