"""The batched pull recorder: counts and times land in one flush, with audit entries."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from harbor_api.db.migrate import upgrade
from harbor_api.db.models import Artifact, AuditLog, Project, Repository, Tag
from harbor_api.db.session import Database
from harbor_api.services.pulls import PullRecorder

pytestmark = pytest.mark.api
DIGEST = "sha256:" + "a" * 64


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'pulls.db'}")
    upgrade(database.engine)
    with database.transaction() as s:
        project = Project(name="p")
        s.add(project)
        s.flush()
        repo = Repository(project_id=project.id, name="p/app")
        s.add(repo)
        s.flush()
        artifact = Artifact(repository_id=repo.id, digest=DIGEST, media_type="m",
                            manifest_media_type="m")
        s.add(artifact)
        s.flush()
        s.add(Tag(repository_id=repo.id, artifact_id=artifact.id, name="v1"))
    yield database
    database.dispose()


def test_flush_writes_counts_times_and_audit(db):
    recorder = PullRecorder(db, interval=60)
    for _ in range(3):
        recorder.record("p/app", DIGEST, "v1", "alice")
    recorder.record("p/app", DIGEST, None, None)
    recorder.record("p/gone", DIGEST, "v1", "bob")  # unknown repository: ignored, audited
    assert recorder.flush() == 5
    assert recorder.flush() == 0
    with db.read() as s:
        assert s.scalar(select(Repository.pull_count).where(Repository.name == "p/app")) == 4
        assert s.scalar(select(Artifact.pull_time)) is not None
        assert s.scalar(select(Tag.pull_time)) is not None
        entries = [(e.operation, e.resource, e.username, e.project_id)
                   for e in s.scalars(select(AuditLog).order_by(AuditLog.id))]
    assert entries[0][:3] == ("pull", "p/app:v1", "alice") and entries[0][3] is not None
    assert entries[3][1:3] == (f"p/app@{DIGEST}", "anonymous")
    assert len(entries) == 5 and entries[4][3] is None


def test_background_thread_flushes(db):
    recorder = PullRecorder(db, interval=0.05)
    started = time.perf_counter()
    for _ in range(1000):
        recorder.record("p/app", DIGEST, "v1", "alice")
    assert time.perf_counter() - started < 0.5  # recording is in-memory only
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with db.read() as s:
            if s.scalar(select(Repository.pull_count)) == 1000:
                break
        time.sleep(0.05)
    recorder.stop()
    with db.read() as s:
        assert s.scalar(select(Repository.pull_count)) == 1000
