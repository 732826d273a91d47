"""The pace and the progress of one replication task, whichever side is the source.

:class:`Meter` caps the bytes per second handed out (the policy's ``speed``, KB/s) and
reports the bytes read so far about once a second; :class:`MeteredSource` puts a meter
between a remote source adapter (pull mode) and the copy.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from harbor_api.adapters.base import Adapter, BlobReader, Manifest, ManifestHead

PROGRESS_SECONDS = 1.0  # how often bytes read so far are reported


class Meter:
    def __init__(self, speed_kbps: int = -1, progress: Callable[[int], None] | None = None) -> None:
        self.rate = speed_kbps * 1024 if speed_kbps > 0 else 0
        self.bytes_read = 0
        self.progress = progress
        self._reported_at = time.monotonic()

    @property
    def slice_size(self) -> int | None:
        """Paced reads are small (a quarter second's worth), so the pace is even."""
        return max(1024, self.rate // 4) if self.rate else None

    def paced(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        started, sent = time.monotonic(), 0
        step = self.slice_size
        for chunk in chunks:
            pieces = (
                [chunk[i : i + step] for i in range(0, len(chunk), step)]
                if step and len(chunk) > step
                else [chunk]
            )
            for piece in pieces:
                sent += len(piece)
                self.bytes_read += len(piece)
                if self.progress and time.monotonic() - self._reported_at >= PROGRESS_SECONDS:
                    self._reported_at = time.monotonic()
                    self.progress(self.bytes_read)
                if self.rate:
                    ahead = sent / self.rate - (time.monotonic() - started)
                    if ahead > 0:
                        time.sleep(ahead)
                yield piece


class MeteredSource(Adapter):
    """The read side of ``inner``, every blob paced and counted by ``meter``."""

    def __init__(self, inner: Adapter, meter: Meter) -> None:
        super().__init__(inner.endpoint)
        self.inner, self.meter = inner, meter

    def head_manifest(self, repository: str, reference: str) -> ManifestHead | None:
        return self.inner.head_manifest(repository, reference)

    def get_manifest(self, repository: str, reference: str) -> Manifest:
        return self.inner.get_manifest(repository, reference)

    @contextmanager
    def pull_blob(self, repository: str, digest: str, offset: int = 0) -> Iterator[BlobReader]:
        with self.inner.pull_blob(repository, digest, offset) as reader:
            yield BlobReader(reader.size, reader.offset, self.meter.paced(reader.chunks))
