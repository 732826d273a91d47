"""Upload sessions live in storage + database: they survive a server restart (and a kill)."""

import signal
import time

import pytest

from tests.support.oci import RegistryClient, sha256
from tests.support.servers import ADMIN_PASSWORD, running_server

pytestmark = [pytest.mark.api, pytest.mark.slow]

DATA = bytes(range(256)) * 4096  # 1 MiB


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGKILL])
def test_upload_resumes_after_restart(tmp_path, stop_signal):
    with running_server(tmp_path) as server:
        client = RegistryClient(server.url, ("admin", ADMIN_PASSWORD))
        location = client.start_upload("library/resumed")
        r = client.patch(location, data=DATA[:400_000], headers={"Content-Range": "0-399999"})
        assert r.status_code == 202
        acknowledged = client.post(
            "/v2/library/resumed/blobs/uploads/", params={"digest": sha256(b"small")}, data=b"small"
        )
        assert acknowledged.status_code == 201
        server.stop(stop_signal)
        server.start()
        client = RegistryClient(server.url, ("admin", ADMIN_PASSWORD))
        status = client.get(location)
        assert status.status_code == 204 and status.headers["Range"] == "0-399999"
        r = client.patch(
            location, data=DATA[400_000:], headers={"Content-Range": f"400000-{len(DATA) - 1}"}
        )
        assert r.status_code == 202, r.text
        assert client.put(location, params={"digest": sha256(DATA)}).status_code == 201
        assert client.get(f"/v2/library/resumed/blobs/{sha256(DATA)}").content == DATA
        assert client.get(f"/v2/library/resumed/blobs/{sha256(b'small')}").content == b"small"


def test_abandoned_uploads_are_purged_at_start(tmp_path):
    import datetime as dt

    import sqlalchemy as sa

    with running_server(tmp_path) as server:
        client = RegistryClient(server.url, ("admin", ADMIN_PASSWORD))
        old = client.start_upload("library/purged")
        fresh = client.start_upload("library/purged")
        for location in (old, fresh):
            assert client.patch(location, data=b"partial").status_code == 202
        server.stop()
        engine = sa.create_engine(f"sqlite:///{server.data_dir / 'harbor.db'}")
        with engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE uploads SET updated = :when WHERE uuid = :id"),
                {"when": dt.datetime(2000, 1, 1), "id": old.rsplit("/", 1)[1]},
            )
        engine.dispose()
        server.start()
        client = RegistryClient(server.url, ("admin", ADMIN_PASSWORD))
        deadline = time.monotonic() + 10
        while client.get(old).status_code != 404 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert client.get(old).status_code == 404
        assert client.get(fresh).status_code == 204
        uploads = server.data_dir / "storage" / "uploads"
        fresh_id = fresh.rsplit("/", 1)[1]  # its bytes, and the file its writers lock
        assert sorted(p.name for p in uploads.iterdir()) == [fresh_id, f"{fresh_id}.lock"]
