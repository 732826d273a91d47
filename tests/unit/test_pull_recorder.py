"""Pull accounting: every recorded pull is written, also one recorded while a batch is
being written (it used to wait for the next pull, forever if none came)."""

from __future__ import annotations

import asyncio
import threading

from harbor_api.v2 import pulls


class SlowRecorder(pulls.PullRecorder):
    """Writes into a list; the first write blocks until released (a slow database)."""

    def __init__(self) -> None:
        super().__init__(db=None)
        self.written: list[dict] = []
        self.first_write_started = threading.Event()
        self.release_first_write = threading.Event()

    def _write(self, batch) -> None:
        if not self.written:
            self.first_write_started.set()
            self.release_first_write.wait(5)
        self.written.append(dict(batch))


def test_pull_recorded_during_a_write_is_written_too(monkeypatch):
    monkeypatch.setattr(pulls, "FLUSH_SECONDS", 0.05)

    async def scenario() -> SlowRecorder:
        recorder = SlowRecorder()
        recorder.record("p/r", "sha256:a", "v1", "u")
        while not recorder.first_write_started.is_set():
            await asyncio.sleep(0.01)
        recorder.record("p/r", "sha256:a", "v1", "u")  # arrives mid-write
        recorder.release_first_write.set()
        for _ in range(200):
            if len(recorder.written) == 2:
                break
            await asyncio.sleep(0.01)
        return recorder

    recorder = asyncio.run(scenario())
    assert [sum(batch.values()) for batch in recorder.written] == [1, 1]
