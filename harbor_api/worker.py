"""The gunicorn worker: uvicorn's, with a request-body buffer sized for blob uploads, a
header-read timeout, a per-client connection cap, and a shutdown bounded by the graceful
timeout.

uvicorn's httptools protocol stops reading the socket once 64 KiB of request body wait for
the application, and resumes on the application's next ``receive()``. For a registry that
means a pause, a wake-up and a resume for every 64-256 KiB of every layer pushed, which
caps an upload near 600 MB/s before any hashing or writing. Letting a few MiB accumulate per
connection before pausing keeps the back-pressure (memory per upload stays bounded) and
moves the ceiling above what sha256 and the disk can take.

uvicorn has a keep-alive timeout but none for reading a request's headers: a client that
trickles header bytes ("slowloris") keeps its connection forever. The protocol here gives
every request ``header_timeout`` seconds from its first byte (or from the connection's
opening) to finish its headers, and refuses a client address more than
``max_connections_per_client`` open connections per worker process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections import Counter
from dataclasses import dataclass

from gunicorn.arbiter import Arbiter
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import Server
from uvicorn_worker import UvicornWorker

#: Request body bytes buffered per connection before the socket stops being read.
BODY_HIGH_WATER = 4 * 1024 * 1024


def _closing_response(status: bytes, text: bytes, *extra: bytes) -> bytes:
    head = [
        b"HTTP/1.1 " + status,
        b"content-type: text/plain; charset=utf-8",
        *extra,
        b"content-length: " + str(len(text)).encode(),
        b"connection: close",
    ]
    return b"\r\n".join(head) + b"\r\n\r\n" + text


_REQUEST_TIMEOUT = _closing_response(b"408 Request Timeout", b"request headers took too long\n")
_TOO_MANY = _closing_response(
    b"503 Service Unavailable", b"too many connections from your address\n", b"retry-after: 1"
)


@dataclass(frozen=True)
class ConnectionLimits:
    header_timeout: float | None = None  # seconds; None: no limit
    max_per_client: int = 0  # 0: no cap


def limits_of(config) -> ConnectionLimits:
    """The limits a uvicorn ``Config`` carries (set by :class:`HarborWorker`)."""
    return getattr(config, "harbor_limits", None) or ConnectionLimits()


class BlobFriendlyHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a larger body high-water mark, a header-read
    timeout and a per-client connection cap."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits_of(self.config)
        self._header_timer: asyncio.TimerHandle | None = None
        self._reading_headers = False  # between a request's first byte and its headers' end
        self._counted_as: str | None = None

    # -- the per-client cap ------------------------------------------------------------
    def _client_counts(self) -> Counter:
        counts = getattr(self.server_state, "harbor_client_connections", None)
        if counts is None:
            counts = Counter()
            self.server_state.harbor_client_connections = counts
        return counts

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        cap = self.limits.max_per_client
        if cap and self.client:
            counts = self._client_counts()
            address = self.client[0]
            if counts[address] >= cap:
                self.logger.warning(
                    "refused a connection from %s: it already has %d open "
                    "(max_connections_per_client)",
                    address,
                    counts[address],
                )
                transport.write(_TOO_MANY)
                transport.close()
                return
            counts[address] += 1
            self._counted_as = address
        self._start_header_timer()

    def connection_lost(self, exc) -> None:
        self._cancel_header_timer()
        if self._counted_as is not None:
            counts = self._client_counts()
            counts[self._counted_as] -= 1
            if counts[self._counted_as] <= 0:
                del counts[self._counted_as]
            self._counted_as = None
        super().connection_lost(exc)

    # -- the header-read timeout -------------------------------------------------------
    def _start_header_timer(self) -> None:
        self._cancel_header_timer()
        if self.limits.header_timeout:
            self._header_timer = self.loop.call_later(
                self.limits.header_timeout, self._headers_too_slow
            )

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.transport is None or self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # a pipelined request's headers may wait while the one before it is answered
            self._start_header_timer()
            return
        self.logger.info(
            "closed a connection from %s: its request headers took longer than "
            "%s s (header_timeout)",
            self.client[0] if self.client else "?",
            self.limits.header_timeout,
        )
        self.transport.write(_REQUEST_TIMEOUT)
        self.transport.close()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading_headers = True
        if self._header_timer is None:
            self._start_header_timer()

    def on_headers_complete(self) -> None:
        self._reading_headers = False
        self._cancel_header_timer()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self._reading_headers:
            # an idle keep-alive connection is uvicorn's keep-alive timeout's business
            self._cancel_header_timer()

    # -- request bodies ----------------------------------------------------------------
    def on_body(self, body: bytes) -> None:
        upgrading = self.parser.should_upgrade() and self._should_upgrade()
        if upgrading or self.cycle.response_complete:
            return
        self.cycle.body += body
        if len(self.cycle.body) > BODY_HIGH_WATER:
            self.flow.pause_reading()
        self.cycle.message_event.set()


class _PlainShutdownWords(logging.Filter):
    """uvicorn's "Cancel N running task(s), timeout graceful shutdown exceeded", said for
    operators."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError):
            return False  # a request cut short at shutdown: the line above said so
        if str(record.msg).startswith("Cancel %s running task(s)"):
            record.msg = (
                "%s request(s) still running at the end of graceful_timeout were cut "
                "short (an upload resumes from its last acknowledged offset)"
            )
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


class _WorkerServer(Server):
    """uvicorn's server, minus re-raising the stop signal once it has shut down: the worker
    then exits with status 0, which gunicorn's master reports as a normal stop."""

    def handle_exit(self, sig, frame) -> None:
        super().handle_exit(sig, frame)
        self._captured_signals.clear()


class HarborWorker(UvicornWorker):
    CONFIG_KWARGS = {**UvicornWorker.CONFIG_KWARGS, "http": BlobFriendlyHttpToolsProtocol}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        settings = getattr(self.app, "settings", None)
        grace = float(self.cfg.graceful_timeout)
        # leave the master a moment between the worker's own cut-off and its SIGKILL
        self.config.timeout_graceful_shutdown = max(0.5, grace - min(2.0, grace / 3))
        if settings is not None:
            self.config.harbor_limits = ConnectionLimits(
                header_timeout=float(settings.header_timeout),
                max_per_client=settings.max_connections_per_client,
            )
        logging.getLogger("uvicorn.error").addFilter(_PlainShutdownWords())

    async def _serve(self) -> None:
        self.config.app = self.wsgi
        server = _WorkerServer(config=self.config)
        # the master's SIGQUIT (its answer to SIGINT) stops the worker like SIGTERM does
        asyncio.get_running_loop().add_signal_handler(
            signal.SIGQUIT, server.handle_exit, signal.SIGQUIT, None
        )
        # the plain sockets: asyncio closes what it is given at shutdown, and closing
        # gunicorn's wrappers that way logs "Error while closing socket ... Bad file descriptor"
        await server.serve(sockets=[getattr(s, "sock", s) for s in self.sockets])
        if not server.started:
            sys.exit(Arbiter.WORKER_BOOT_ERROR)
        # The application has shut down (lifespan). Leave now: waiting for the threads of
        # requests cut short (asyncio joins its executor, Python joins its threads) and
        # tearing the interpreter down could outlast graceful_timeout and earn a SIGKILL.
        # What such a thread leaves behind is what a killed process leaves: uploads resume.
        self.log.info("worker (pid: %s) stopped", os.getpid())
        for handler in logging.getLogger().handlers + self.log.error_log.handlers:
            handler.flush()
        os._exit(0)
