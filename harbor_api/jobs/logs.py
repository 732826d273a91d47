"""Per-task logs, stored through the storage driver under ``jobs/logs/`` (registry/paths.py)."""

from __future__ import annotations

import datetime as dt

from harbor_api.registry.paths import job_log_key
from harbor_api.registry.storage.base import StorageDriver, StorageNotFoundError


def read_log(storage: StorageDriver, task_id: int) -> str | None:
    try:
        return storage.get(job_log_key(task_id)).decode("utf-8", "replace")
    except StorageNotFoundError:
        return None


class TaskLog:
    """Appends lines to one task's log; every line is stored at once (logs are small, and a
    killed worker must leave what it wrote readable)."""

    def __init__(self, storage: StorageDriver, task_id: int) -> None:
        self.storage = storage
        self.key = job_log_key(task_id)
        self.text = read_log(storage, task_id) or ""

    def write(self, message: str) -> None:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        self.text += "".join(f"{stamp} {line}\n" for line in message.splitlines() or [""])
        self.storage.put(self.key, self.text.encode())
