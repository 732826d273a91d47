"""A tiny HTTP CONNECT proxy that tunnels ``<name>.test:<port>`` to ``127.0.0.1:<port>``.

Why: dockerd treats every registry whose address is in 127.0.0.0/8 as insecure, and for an
insecure registry it skips certificate verification and never reads ``certs.d``. A test of
"HTTPS with a private CA in certs.d" therefore needs a registry name that does not resolve
to loopback. ``.test`` names never resolve (RFC 6761), so dockerd counts them as secure and
reaches them through ``HTTPS_PROXY`` -- this proxy -- which connects to our loopback server.
The TLS session runs end to end between dockerd and the server; the proxy only copies bytes.
"""

from __future__ import annotations

import selectors
import socket
import socketserver
import threading

SUFFIX = ".test"


class _Tunnel(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        client: socket.socket = self.request
        client.settimeout(30)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(4096)
            if not chunk or len(head) > 65536:
                return
            head += chunk
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1").split()
        if len(request_line) != 3 or request_line[0] != "CONNECT":
            client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        host, _, port = request_line[1].rpartition(":")
        if not host.endswith(SUFFIX) or not port.isdigit():
            client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
        except OSError:
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        with upstream:
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            rest = head.split(b"\r\n\r\n", 1)[1]
            if rest:
                upstream.sendall(rest)
            _pipe(client, upstream)


def _pipe(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""
    a.settimeout(None)
    b.settimeout(None)
    with selectors.DefaultSelector() as sel:
        sel.register(a, selectors.EVENT_READ, b)
        sel.register(b, selectors.EVENT_READ, a)
        while True:
            for key, _ in sel.select(timeout=120):
                try:
                    data = key.fileobj.recv(65536)
                    if not data:
                        return
                    key.data.sendall(data)
                except OSError:  # a reset from either side ends the tunnel
                    return


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class ConnectProxy:
    """Start with ``with ConnectProxy() as proxy:``; ``proxy.url`` goes into HTTPS_PROXY."""

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Tunnel)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
        )

    def __enter__(self) -> ConnectProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
