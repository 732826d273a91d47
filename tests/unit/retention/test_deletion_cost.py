"""A real retention run deletes set-based: a task deleting 100 artifacts runs a few
statements per batch of deletions, not a dozen per artifact (quota give-back, audit chain,
replication's deletion-sync lookup once per batch)."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading

from sqlalchemy import event, func, insert, select

from harbor_api.db.migrate import upgrade
from harbor_api.db.models import (
    Artifact,
    ArtifactBlob,
    AuditLog,
    Blob,
    Project,
    Quota,
    Repository,
    RepositoryBlob,
    Tag,
)
from harbor_api.db.session import Database
from harbor_api.jobs import executions
from harbor_api.jobs.logs import TaskLog
from harbor_api.jobs.runner import JobContext
from harbor_api.registry.storage.filesystem import FilesystemDriver
from harbor_api.services.retention import task as retention_task

N = 100
LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _seed(db: Database) -> tuple[int, int]:
    with db.transaction() as s:
        project = s.execute(insert(Project).values(name="p").returning(Project.id)).scalar()
        s.execute(insert(Quota).values(project_id=project, hard=-1, used=N * 200, reserved=0))
        repo = s.execute(
            insert(Repository).values(name="p/app", project_id=project).returning(Repository.id)
        ).scalar()
        digests = [_digest(f"{kind}{i}") for i in range(N) for kind in ("m", "c")]
        s.execute(
            insert(Blob),
            [
                {"digest": d, "size": 100, "media_type": "x", "creation_time": LONG_AGO}
                for d in digests
            ],
        )
        blob_ids = dict(s.execute(select(Blob.digest, Blob.id)).all())
        s.execute(
            insert(RepositoryBlob),
            [{"repository_id": repo, "blob_id": blob_ids[d], "digest": d} for d in digests],
        )
        s.execute(
            insert(Artifact),
            [
                {
                    "repository_id": repo,
                    "digest": _digest(f"m{i}"),
                    "media_type": "application/vnd.oci.image.config.v1+json",
                    "manifest_media_type": "application/vnd.oci.image.manifest.v1+json",
                    "size": 200,
                    "config_digest": _digest(f"c{i}"),
                    "push_time": LONG_AGO + dt.timedelta(seconds=i),
                }
                for i in range(N)
            ],
        )
        ids = dict(s.execute(select(Artifact.digest, Artifact.id)).all())
        s.execute(
            insert(Tag),
            [
                {"repository_id": repo, "artifact_id": ids[_digest(f"m{i}")], "name": f"dev{i}"}
                for i in range(N)
            ],
        )
        s.execute(
            insert(ArtifactBlob),
            [{"artifact_id": ids[_digest(f"m{i}")], "digest": _digest(f"c{i}")} for i in range(N)],
        )
    return project, repo


def test_a_real_run_deletes_in_a_few_statements_per_batch(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'h.db'}")
    upgrade(db.engine)
    project, repo = _seed(db)
    params = {
        "repository": "p/app",
        "repository_id": repo,
        "project_id": project,
        "dry_run": False,
        "rules": [
            {
                "template": "always",
                "params": {},
                "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "v*"}],
                "scope_selectors": {
                    "repository": [
                        {"kind": "doublestar", "decoration": "repoMatches", "pattern": "**"}
                    ]
                },
            }
        ],
    }
    with db.transaction() as s:
        execution = executions.create_execution(s, "RETENTION", "RETENTION", params=params)
        task_id = s.scalar(select(func.max(executions.Task.id)))
    storage = FilesystemDriver(tmp_path / "storage")
    ctx = JobContext(task_id, execution.id, 1, params, db, TaskLog(storage, task_id))
    statements = []
    me = threading.get_ident()

    @event.listens_for(db.engine, "before_cursor_execute")
    def count(_conn, _cursor, statement, *_):
        if threading.get_ident() == me:
            statements.append(statement)

    retention_task.run_repository(ctx)
    event.remove(db.engine, "before_cursor_execute", count)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Artifact)) == 0
        assert s.scalar(select(func.count()).select_from(Tag)) == 0
        assert s.scalar(select(func.count()).select_from(RepositoryBlob)) == 0
        assert s.scalar(select(Quota.used).where(Quota.project_id == project)) == 0
        deleted = s.scalar(select(func.count()).select_from(AuditLog))
        assert deleted == N
    # before: 24 statements per deleted artifact; now about 22 per batch of 25
    assert len(statements) / N < 2, len(statements)
    db.dispose()
