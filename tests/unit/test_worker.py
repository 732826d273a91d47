"""The gunicorn worker's HTTP protocol: request bodies arrive in pieces of up to a few MiB
(uvicorn's own protocol pauses the socket at 64 KiB), still with back-pressure."""

from __future__ import annotations

import asyncio
import http.client
import threading
import time

import uvicorn

from harbor_api.worker import BODY_HIGH_WATER, BlobFriendlyHttpToolsProtocol, HarborWorker
from tests.support.servers import free_port

MiB = 1024 * 1024


def test_worker_uses_the_blob_friendly_protocol():
    assert HarborWorker.CONFIG_KWARGS["http"] is BlobFriendlyHttpToolsProtocol


def _serve(app, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        http=BlobFriendlyHttpToolsProtocol,
        log_level="warning",
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    return server, thread


def test_body_arrives_in_large_pieces_and_whole():
    """A slow consumer lets the body pile up to the high-water mark, not to 64 KiB, and
    never beyond it by more than one socket read."""
    pieces: list[int] = []

    async def app(scope, receive, send):
        while True:
            await asyncio.sleep(0.02)  # a busy application: the socket keeps delivering
            message = await receive()
            pieces.append(len(message.get("body", b"")))
            if not message.get("more_body"):
                break
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"0")]}
        )
        await send({"type": "http.response.body", "body": b""})

    port = free_port()
    server, thread = _serve(app, port)
    try:
        size = 24 * MiB
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("PUT", "/blob", body=bytes(size), headers={"Content-Length": str(size)})
        assert connection.getresponse().status == 200
    finally:
        server.should_exit = True
        thread.join(10)
    assert sum(pieces) == size
    assert max(pieces) > 1 * MiB
    assert max(pieces) <= BODY_HIGH_WATER + 1 * MiB
