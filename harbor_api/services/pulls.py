"""Pull counts and times, recorded without slowing pulls down.

A manifest GET calls :func:`record_pull`, which only appends to an in-memory buffer (a dict
update under a lock: microseconds, no I/O). A daemon thread flushes the buffer every
:data:`FLUSH_INTERVAL` seconds in one transaction: one ``UPDATE`` per repository (pull_count
+= n), one per artifact and per tag (latest pull_time), and the ``pull`` audit entries in one
bulk insert. Up to one interval of counts can be lost if the process is killed hard; a
graceful stop flushes (``atexit``). The same thread also applies the audit log retention
(:func:`harbor_api.services.audit_logs.maybe_purge`, at most once per five minutes).
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from harbor_api.db.models import Artifact, AuditLog, Repository, Tag

log = logging.getLogger(__name__)

FLUSH_INTERVAL = 1.0
EXTRAS_KEY = "pull_recorder"


@dataclass
class _Batch:
    counts: Counter = field(default_factory=Counter)  # repository name -> pulls
    artifacts: dict[tuple[str, str], dt.datetime] = field(default_factory=dict)
    tags: dict[tuple[str, str], dt.datetime] = field(default_factory=dict)
    audit: list[tuple[str, str, dt.datetime]] = field(default_factory=list)  # repo, res, user


class PullRecorder:
    def __init__(self, db: Any, interval: float = FLUSH_INTERVAL) -> None:
        self.db = db
        self.interval = interval
        self._batch = _Batch()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def record(self, repository: str, digest: str, tag: str | None = None,
               username: str | None = None) -> None:
        now = dt.datetime.now(dt.UTC)
        with self._lock:
            b = self._batch
            b.counts[repository] += 1
            b.artifacts[(repository, digest)] = now
            if tag:
                b.tags[(repository, tag)] = now
            b.audit.append((repository, f"{repository}:{tag}" if tag else
                            f"{repository}@{digest}", username or "anonymous", now))
            if self._thread is None:
                self._start()

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="pull-recorder", daemon=True)
        self._thread.start()
        atexit.register(self.stop)

    def _run(self) -> None:
        from harbor_api.services.audit_logs import maybe_purge

        while not self._stopped:
            self._wake.wait(self.interval)
            self._wake.clear()
            self.flush()
            maybe_purge(self.db)  # audit retention rides on this timer (throttled inside)

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()
        self.flush()

    def flush(self) -> int:
        """Write what is buffered; returns the number of pulls written."""
        with self._lock:
            batch, self._batch = self._batch, _Batch()
        if not batch.counts:
            return 0
        try:
            with self.db.transaction() as s:
                _write(s, batch)
        except Exception as exc:  # counts are best effort; never crash the thread
            log.warning("pull statistics flush failed (%d pulls dropped): %s",
                        sum(batch.counts.values()), exc)
            return 0
        return sum(batch.counts.values())


def _write(s, batch: _Batch) -> None:
    names = list(batch.counts)
    repos = {name: (rid, pid) for rid, pid, name in s.execute(
        select(Repository.id, Repository.project_id, Repository.name)
        .where(Repository.name.in_(names)))}
    repo_table, art_table, tag_table = (Repository.__table__, Artifact.__table__,
                                        Tag.__table__)
    count_rows = [{"rid": repos[n][0], "n": c} for n, c in batch.counts.items() if n in repos]
    if count_rows:
        s.connection().execute(
            update(repo_table).where(repo_table.c.id == bindparam("rid"))
            .values(pull_count=repo_table.c.pull_count + bindparam("n")), count_rows)
    artifact_rows = [{"rid": repos[n][0], "d": d, "t": t}
                     for (n, d), t in batch.artifacts.items() if n in repos]
    if artifact_rows:
        s.connection().execute(
            update(art_table).where(art_table.c.repository_id == bindparam("rid"),
                                    art_table.c.digest == bindparam("d"))
            .values(pull_time=bindparam("t")), artifact_rows)
    tag_rows = [{"rid": repos[n][0], "tn": tag, "t": t}
                for (n, tag), t in batch.tags.items() if n in repos]
    if tag_rows:
        s.connection().execute(
            update(tag_table).where(tag_table.c.repository_id == bindparam("rid"),
                                    tag_table.c.name == bindparam("tn"))
            .values(pull_time=bindparam("t")), tag_rows)
    audit_rows = [{"project_id": repos[n][1] if n in repos else None, "operation": "pull",
                   "resource_type": "artifact", "resource": res[:1024], "username": user,
                   "op_time": t} for n, res, user, t in batch.audit]
    s.execute(insert(AuditLog), audit_rows)


def recorder(state: Any) -> PullRecorder:
    """The process-wide recorder of an :class:`AppState` (created on first use)."""
    found = state.extras.get(EXTRAS_KEY)
    if found is None:
        found = state.extras.setdefault(EXTRAS_KEY, PullRecorder(state.db))
    return found


def record_pull(state: Any, repository: str, digest: str, tag: str | None = None,
                username: str | None = None) -> None:
    """Call after a successful manifest GET (not HEAD); returns immediately."""
    recorder(state).record(repository, digest, tag, username)
