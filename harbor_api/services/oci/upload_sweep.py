"""The periodic sweep of abandoned uploads: session rows, their files, lock sidecars and
temporary files a crash left behind.

A session is abandoned once untouched (its offset last advanced, or it was opened) for
``upload_purge_age_seconds``; a file under ``uploads/`` without a session row, or a
temporary file beside a blob key, once its modification time is that old. Each server
process runs the sweep at start and every ``upload_purge_interval_seconds``; a lock in
storage (``paths.UPLOAD_SWEEP_LOCK``) lets one process at a time do it, and the others skip
that round. A session in use is never removed: its writers hold its lock for the whole
request (the sweep skips a session it cannot lock) and the row is removed only if it is
still untouched when deleted.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

from harbor_api.db.base import utcnow
from harbor_api.db.session import Database
from harbor_api.registry import paths
from harbor_api.registry.storage.base import StorageBusyError, StorageNotFoundError
from harbor_api.registry.upload_files import UploadFiles
from harbor_api.services.oci import quota_checks
from harbor_api.services.oci import upload_records as sessions

log = logging.getLogger(__name__)


class UploadSweeper:
    def __init__(
        self, db: Database, uploads: UploadFiles, age_seconds: int, interval_seconds: int
    ) -> None:
        self.db = db
        self.uploads = uploads
        self.driver = uploads.driver
        self.age = age_seconds
        self.interval = interval_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sweep-uploads", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sweep()
            except Exception as exc:  # the database away, schema not migrated: next round
                log.warning("upload sweep failed: %s", exc)
            self._stop.wait(self.interval)

    def sweep(self) -> int:
        """One round; returns how many sessions and files it removed (0 when another
        process holds the sweep)."""
        try:
            lock = self.driver.lock(paths.UPLOAD_SWEEP_LOCK)
        except StorageBusyError:
            return 0
        try:
            cutoff = utcnow() - dt.timedelta(seconds=self.age)
            file_cutoff = time.time() - self.age
            removed = self._stale_sessions(cutoff) + self._orphan_files(file_cutoff)
            removed += sum(
                self.driver.remove_stale_temporaries(prefix, file_cutoff)
                for prefix in (paths.UPLOADS, paths.BLOBS)
            )
        finally:
            lock.release()
        if removed:
            log.info("upload sweep removed %d abandoned sessions and files", removed)
        return removed

    def _stale_sessions(self, cutoff: dt.datetime, batch: int = 1000) -> int:
        removed = 0
        while True:  # in batches; sessions in use stay listed, so stop when none goes
            with self.db.read() as session:
                stale = sessions.stale_upload_ids(session, cutoff, batch)
            gone = sum(1 for upload_id in stale if self._remove(upload_id, cutoff))
            removed += gone
            if len(stale) < batch or not gone:
                return removed

    def _remove(self, upload_id: str, cutoff: dt.datetime) -> bool:
        try:
            lock = self.uploads.lock(upload_id)
        except StorageBusyError:  # a request is writing it right now
            return False
        try:
            with self.db.transaction() as session:
                held = quota_checks.held_by(session, upload_id)
                if not sessions.remove_stale_upload(session, upload_id, cutoff):
                    return False
                quota_checks.give_back(session, held)
            self.uploads.discard(upload_id)
            return True
        finally:
            lock.release()

    def _orphan_files(self, older_than: float) -> int:
        """Files under ``uploads/`` whose session row is gone (a crash between the row's
        removal and the files', a lock sidecar a refused request created)."""
        by_id: dict[str, list[str]] = {}
        for key in self.driver.list(paths.UPLOADS):
            upload_id = paths.upload_id_of(key)
            if upload_id is not None:
                by_id.setdefault(upload_id, []).append(key)
        removed = 0
        ids = sorted(by_id)
        for start in range(0, len(ids), 500):
            batch = ids[start : start + 500]
            with self.db.read() as session:
                known = sessions.known_upload_ids(session, batch)
            for upload_id in batch:
                if upload_id in known or not self._all_older(by_id[upload_id], older_than):
                    continue
                try:
                    lock = self.uploads.lock(upload_id)
                except StorageBusyError:
                    continue
                try:
                    with self.db.read() as session:  # not created meanwhile
                        if sessions.known_upload_ids(session, [upload_id]):
                            continue
                    self.uploads.discard(upload_id)
                    removed += len(by_id[upload_id])
                finally:
                    lock.release()
        return removed

    def _all_older(self, keys: list[str], older_than: float) -> bool:
        for key in keys:
            try:
                if self.driver.stat(key).modified >= older_than:
                    return False
            except StorageNotFoundError:  # gone meanwhile
                continue
        return True
