"""A real HTTP(S) server on loopback that records the webhook deliveries it receives.

``hang_seconds`` makes it hold every request that long before answering (a slow or dead
receiver); :meth:`Receiver.stop` releases held requests at once, so tests end promptly.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    hang_seconds: float = 0.0
    status: int = 200
    cert: Path | None = None
    key: Path | None = None
    deliveries: list[Delivery] = field(default_factory=list)
    arrived: int = 0  # requests seen (held ones included)
    _release: threading.Event = field(default_factory=threading.Event)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def __enter__(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._cond:
                    receiver.arrived += 1
                    receiver._cond.notify_all()
                if receiver.hang_seconds:
                    receiver._release.wait(receiver.hang_seconds)
                with receiver._cond:
                    receiver.deliveries.append(
                        Delivery(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    receiver._cond.notify_all()
                try:
                    self.send_response(receiver.status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        scheme = "http"
        if self.cert is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.cert, self.key)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, timeout: float = 20.0, arrived: bool = False) -> list[Delivery]:
        """Poll (with a deadline) until ``count`` deliveries (or arrivals) are in."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while (self.arrived if arrived else len(self.deliveries)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{count} deliveries expected in {timeout} s, got {len(self.deliveries)}"
                    )
                self._cond.wait(left)
            return list(self.deliveries)
