"""The one module that knows the storage key layout (see ``docs/storage-layout.md``).

Keys are ``/``-separated and relative to the driver's root. Content is stored once by
digest; upload sessions live under their own prefix until they are committed by a move.
"""

from __future__ import annotations

import re

from harbor_api.registry.digest import parse_digest

BLOBS = "blobs"
UPLOADS = "uploads"
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


def blob_key(digest: str) -> str:
    """``blobs/sha256/ab/abcdef…`` (manifests are blobs too). One object per digest directly
    in its fan-out directory: storing a new blob creates no directory (fewer fsyncs)."""
    parsed = parse_digest(digest)
    return f"{BLOBS}/{parsed.algorithm}/{parsed.hex[:2]}/{parsed.hex}"


def upload_data_key(upload_id: str) -> str:
    """``uploads/<id>``: one flat object per session (no directory to create or remove)."""
    if not _UPLOAD_ID.match(upload_id):
        raise ValueError(f"invalid upload id {upload_id!r}")
    return f"{UPLOADS}/{upload_id}"


def upload_lock_key(upload_id: str) -> str:
    """``uploads/<id>.lock``: what a session's writers lock. Beside the data, never renamed
    with it: finishing moves the data under its blob key while the lock is still held."""
    return f"{upload_data_key(upload_id)}.lock"


#: What the upload sweep locks, so one process at a time sweeps (see ``docs/storage-layout.md``).
UPLOAD_SWEEP_LOCK = "locks/upload-sweep"


def upload_id_of(key: str) -> str | None:
    """The session id a key under ``uploads/`` belongs to (its data or its lock), or None."""
    name = key.rsplit("/", 1)[-1].removesuffix(".lock")
    return name if _UPLOAD_ID.match(name) else None


def is_upload_id(value: str) -> bool:
    return bool(_UPLOAD_ID.match(value))


JOB_LOGS = "jobs/logs"


def job_log_key(task_id: int) -> str:
    """``jobs/logs/<task id>.log``: one job task's log (all its runs), kept by the job service."""
    if not isinstance(task_id, int) or isinstance(task_id, bool) or task_id < 0:
        raise ValueError(f"invalid task id {task_id!r}")
    return f"{JOB_LOGS}/{task_id}.log"
