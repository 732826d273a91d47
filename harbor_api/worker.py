"""The gunicorn worker: uvicorn's, with a request-body buffer sized for blob uploads.

uvicorn's httptools protocol stops reading the socket once 64 KiB of request body wait for
the application, and resumes on the application's next ``receive()``. For a registry that
means a pause, a wake-up and a resume for every 64-256 KiB of every layer pushed, which
caps an upload near 600 MB/s before any hashing or writing. Letting a few MiB accumulate per
connection before pausing keeps the back-pressure (memory per upload stays bounded) and
moves the ceiling above what sha256 and the disk can take.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn_worker import UvicornWorker

#: Request body bytes buffered per connection before the socket stops being read.
BODY_HIGH_WATER = 4 * 1024 * 1024


class BlobFriendlyHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a larger body high-water mark."""

    def on_body(self, body: bytes) -> None:
        upgrading = self.parser.should_upgrade() and self._should_upgrade()
        if upgrading or self.cycle.response_complete:
            return
        self.cycle.body += body
        if len(self.cycle.body) > BODY_HIGH_WATER:
            self.flow.pause_reading()
        self.cycle.message_event.set()


class HarborWorker(UvicornWorker):
    CONFIG_KWARGS = {**UvicornWorker.CONFIG_KWARGS, "http": BlobFriendlyHttpToolsProtocol}
