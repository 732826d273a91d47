"""Where the /v2 edge runs its short database reads.

A worker-thread hop (queue, wake-up, GIL hand-over, result back to the loop) costs more than
an indexed SQLite read in WAL mode, which never waits for a writer. So on SQLite with local
storage the hot read paths (manifest HEAD/GET, tag listing) run on the event loop; with a
networked database every call goes to a worker thread as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio

from harbor_api.registry.storage.filesystem import FilesystemDriver

T = TypeVar("T")


def inline_reads_allowed(db, driver) -> bool:
    return db.dialect == "sqlite" and isinstance(driver, FilesystemDriver)


async def run_read(app, work: Callable[[], T], writes_nothing: bool) -> T:
    """``work()`` (a few indexed reads, maybe a small local file) inline or in a thread.

    Only work that ``writes_nothing`` may run inline: a write (e.g. auditing a refusal) could
    wait for SQLite's write lock and must never stall the event loop."""
    if writes_nothing and app.inline_reads:
        return work()
    return await anyio.to_thread.run_sync(work)
