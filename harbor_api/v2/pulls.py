"""Pull accounting off the hot path: manifest GETs are counted in memory and written in one
short transaction about once a second (artifact and tag ``pull_time``, repository
``pull_count``, one audit-log ``pull`` entry per pull), as Harbor does asynchronously too."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

import anyio

from harbor_api.services.oci.artifacts import record_pulls

log = logging.getLogger(__name__)
FLUSH_SECONDS = 1.0


class PullRecorder:
    def __init__(self, db) -> None:
        self.db = db
        # (repository, digest, tag or None, username) -> pulls since the last flush
        self.pending: Counter[tuple[str, str, str | None, str]] = Counter()
        self._task: asyncio.Task | None = None

    def record(self, repository: str, digest: str, tag: str | None, username: str) -> None:
        self.pending[(repository, digest, tag, username)] += 1
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._flush_later())

    async def _flush_later(self) -> None:
        """Flush every second while pulls keep coming. Pulls recorded while a batch is being
        written go into the next round (record() starts no task while this one runs), and
        the task ends only when a round finds nothing to write."""
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            batch, self.pending = self.pending, Counter()
            if not batch:
                return
            try:
                await anyio.to_thread.run_sync(self._write, batch)
            except Exception:  # accounting must never break pulls
                log.exception("could not record %d pulls", sum(batch.values()))

    def _write(self, batch: Counter) -> None:
        with self.db.transaction() as session:
            record_pulls(session, batch)
