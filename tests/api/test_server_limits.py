"""Connection limits of the server: a client must send its request headers within
``header_timeout``, and one client address holds at most ``max_connections_per_client``
connections per worker, while other clients are still served."""

from __future__ import annotations

import socket
import time

import pytest

from tests.support.servers import running_server

pytestmark = [pytest.mark.api]

PING = b"GET /api/v2.0/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


def _closed_by_server(sock: socket.socket, wait: float) -> bytes | None:
    """What the server sent before closing within ``wait`` seconds; None if still open."""
    sock.settimeout(wait)
    received = b""
    try:
        while chunk := sock.recv(4096):
            received += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return received


def _ping(source: str, port: int) -> bytes:
    with socket.create_connection(
        ("127.0.0.1", port), timeout=10, source_address=(source, 0)
    ) as sock:
        sock.sendall(PING)
        return _closed_by_server(sock, 10) or b""


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    env = {"HARBOR_HEADER_TIMEOUT": "2", "HARBOR_MAX_CONNECTIONS_PER_CLIENT": "6"}
    with running_server(tmp_path_factory.mktemp("limits"), extra_env=env) as server:
        yield server


def test_trickled_headers_are_cut_off_after_header_timeout(limited):
    socks = [socket.create_connection(("127.0.0.1", limited.port), timeout=10) for _ in range(4)]
    try:
        started = time.monotonic()
        for sock in socks:
            sock.sendall(b"GET /api/v2.0/ping HTTP/1.1\r\nHost: x\r\n")
        closed = [None] * len(socks)
        while time.monotonic() - started < 8 and None in closed:
            for i, sock in enumerate(socks):  # one more header byte now and then
                if closed[i] is None:
                    try:
                        sock.sendall(b"X")
                    except OSError:
                        closed[i] = time.monotonic() - started
            for i, sock in enumerate(socks):
                if closed[i] is None and _closed_by_server(sock, 0.05) is not None:
                    closed[i] = time.monotonic() - started
            time.sleep(0.3)
        assert None not in closed, closed
        assert all(1.5 < t < 6 for t in closed), closed
    finally:
        for sock in socks:
            sock.close()
    assert b" 200 " in _ping("127.0.0.1", limited.port)  # the server itself is fine


def test_an_idle_connection_without_any_request_is_cut_off_too(limited):
    with socket.create_connection(("127.0.0.1", limited.port), timeout=10) as sock:
        started = time.monotonic()
        answer = _closed_by_server(sock, 8)
        assert answer is not None and 1.5 < time.monotonic() - started < 6
        assert answer.startswith(b"HTTP/1.1 408 ")


def test_connections_beyond_the_cap_are_refused_while_others_are_served(limited):
    held = [socket.create_connection(("127.0.0.1", limited.port), timeout=10) for _ in range(6)]
    try:
        for sock in held:  # answered, then idle in keep-alive (not cut by header_timeout)
            sock.sendall(b"GET /api/v2.0/ping HTTP/1.1\r\nHost: x\r\n\r\n")
            assert b" 200 " in sock.recv(4096)
        with socket.create_connection(("127.0.0.1", limited.port), timeout=10) as extra:
            started = time.monotonic()
            extra.sendall(PING)
            answer = _closed_by_server(extra, 1.5)
            assert answer is not None and time.monotonic() - started < 1.5
            assert answer.startswith(b"HTTP/1.1 503 "), answer
        assert b" 200 " in _ping("127.0.0.2", limited.port)  # another client address
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.2)
    assert b" 200 " in _ping("127.0.0.1", limited.port)  # freed slots count again
