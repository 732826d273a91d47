"""Upload sessions live in storage + database: they survive a server restart (and a kill)."""

import signal

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
        acknowledged = client.post("/v2/library/resumed/blobs/uploads/",
                                   params={"digest": sha256(b"small")}, data=b"small")
        assert acknowledged.status_code == 201
        server.stop(stop_signal)
        server.start()
        client = RegistryClient(server.url, ("admin", ADMIN_PASSWORD))
        status = client.get(location)
        assert status.status_code == 204 and status.headers["Range"] == "0-399999"
        r = client.patch(location, data=DATA[400_000:],
                         headers={"Content-Range": f"400000-{len(DATA) - 1}"})
        assert r.status_code == 202, r.text
        assert client.put(location, params={"digest": sha256(DATA)}).status_code == 201
        assert client.get(f"/v2/library/resumed/blobs/{sha256(DATA)}").content == DATA
        assert client.get(f"/v2/library/resumed/blobs/{sha256(b'small')}").content == b"small"
