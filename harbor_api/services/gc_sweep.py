"""Online mark-and-sweep of blobs (``docs/gc.md``): no read-only window.

**Mark** is one set-based condition, not a walk: a blob is referenced while an artifact *is*
it (a manifest or index, children included: they are artifacts) or an artifact's
``artifact_blobs`` name it (config and layers; accessories and referrers are artifacts of
their own). **Sweep** takes, in batches by id, the blobs that are unreferenced, ``none``,
and untouched for the grace window, and for each batch

1. claims them with one compare-and-set UPDATE (``none -> deleting``, re-checking every
   condition on the row), committed: from here on a push refuses or waits for them
   (``services/oci/blob_states.py``);
2. deletes their bytes (``workers`` threads);
3. deletes their rows (and so their repository links).

At the end the projects that lost links get their quota recounted (until then their usage
errs high, never low).

A run interrupted between 1 and 3 leaves ``deleting`` rows; the next run finishes them first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import and_, delete, exists, func, select, update

from harbor_api.db.base import UTCDateTime, utcnow
from harbor_api.db.models import Artifact, ArtifactBlob, Blob, Repository, RepositoryBlob
from harbor_api.db.session import Database
from harbor_api.registry import paths
from harbor_api.registry.storage.base import StorageDriver, StorageNotFoundError
from harbor_api.services.oci import quota_checks
from harbor_api.services.oci.blob_states import DELETING, LIVE

BATCH = 1000


@dataclass
class SweepReport:
    blobs: int = 0  # layers and configs
    manifests: int = 0  # manifests and indexes no artifact is any more
    freed_bytes: int = 0
    stopped: bool = False

    def add(self, rows: Iterable[tuple[int, str, int, str]]) -> None:
        for _id, _digest, size, media_type in rows:
            if is_manifest_type(media_type):
                self.manifests += 1
            else:
                self.blobs += 1
            self.freed_bytes += size


def is_manifest_type(media_type: str) -> bool:
    return "manifest" in media_type or "image.index" in media_type


def _last_used():
    return func.coalesce(Blob.touched_at, Blob.creation_time, type_=UTCDateTime)


def collectable(cutoff: dt.datetime):
    """The sweep condition on a blob row (what the compare-and-set re-checks)."""
    return and_(
        Blob.status == LIVE,
        _last_used() < cutoff,
        ~exists().where(Artifact.digest == Blob.digest),
        ~exists().where(ArtifactBlob.digest == Blob.digest),
    )


_ROW = (Blob.id, Blob.digest, Blob.size, Blob.media_type)


class Sweeper:
    def __init__(
        self,
        db: Database,
        driver: StorageDriver,
        grace_seconds: float,
        workers: int = 1,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        self.db = db
        self.driver = driver
        self.grace = dt.timedelta(seconds=grace_seconds)
        self.workers = max(1, workers)
        self.should_stop = should_stop
        self._projects: set[int] = set()

    def dry_run(self) -> SweepReport:
        """What a sweep would delete now (nothing is claimed or deleted)."""
        report = SweepReport()
        cutoff = utcnow() - self.grace
        with self.db.read() as s:
            report.add(s.execute(select(*_ROW).where(collectable(cutoff))).all())
        return report

    def sweep(self) -> SweepReport:
        report = SweepReport()
        with ThreadPoolExecutor(self.workers, thread_name_prefix="gc-delete") as pool:
            self._finish(self._claimed(), report, pool)  # left by an interrupted run
            cutoff = utcnow() - self.grace
            after = 0
            while not self.should_stop():
                with self.db.read() as s:
                    ids = list(
                        s.scalars(
                            select(Blob.id)
                            .where(collectable(cutoff), Blob.id > after)
                            .order_by(Blob.id)
                            .limit(BATCH)
                        )
                    )
                if not ids:
                    break
                after = ids[-1]
                self._finish(self._claim(ids, cutoff), report, pool)
            report.stopped = self.should_stop()
        for project_id in sorted(self._projects):  # the bytes leave the projects' usage
            with self.db.transaction() as s:
                quota_checks.recount(s, project_id)
        return report

    def _claimed(self) -> list[tuple[int, str, int, str]]:
        with self.db.read() as s:
            return [tuple(r) for r in s.execute(select(*_ROW).where(Blob.status == DELETING))]

    def _claim(self, ids: list[int], cutoff: dt.datetime) -> list[tuple[int, str, int, str]]:
        """The compare-and-set: only rows still collectable become ``deleting``. On
        PostgreSQL the rows are locked first, skipping those a push holds (it is touching
        them: they are in use), so a claim never waits for a push and never deadlocks with
        one; the UPDATE then re-checks every condition in a snapshot of its own."""
        with self.db.transaction() as s:
            if s.get_bind().dialect.name == "postgresql":
                ids = list(
                    s.scalars(
                        select(Blob.id)
                        .where(Blob.id.in_(ids), Blob.status == LIVE, _last_used() < cutoff)
                        .order_by(Blob.id)
                        .with_for_update(skip_locked=True)
                    )
                )
                if not ids:
                    return []
            return [
                tuple(r)
                for r in s.execute(
                    update(Blob)
                    .where(Blob.id.in_(ids), collectable(cutoff))
                    .values(status=DELETING)
                    .returning(*_ROW)
                    .execution_options(synchronize_session=False)
                )
            ]

    def _finish(self, rows: list, report: SweepReport, pool: ThreadPoolExecutor) -> None:
        if not rows:
            return
        list(pool.map(self._delete_bytes, [digest for _i, digest, _s, _m in rows]))
        ids = [row[0] for row in rows]
        with self.db.transaction() as s:
            self._projects.update(
                s.scalars(
                    select(Repository.project_id)
                    .join(RepositoryBlob, RepositoryBlob.repository_id == Repository.id)
                    .where(RepositoryBlob.blob_id.in_(ids))
                    .distinct()
                )
            )
            s.execute(delete(RepositoryBlob).where(RepositoryBlob.blob_id.in_(ids)))
            s.execute(delete(Blob).where(Blob.id.in_(ids), Blob.status == DELETING))
        report.add(rows)

    def _delete_bytes(self, digest: str) -> None:
        try:
            self.driver.delete(paths.blob_key(digest))
        except StorageNotFoundError:
            pass
