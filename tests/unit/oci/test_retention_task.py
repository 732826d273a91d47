"""The retention job in-process over a real registry core: a run deletes what its table
says through the one delete rule, the protection hook (tag immutability's) keeps what it
names, and an artifact re-tagged after it was judged is kept."""

from __future__ import annotations

import dataclasses
import threading

import pytest
from sqlalchemy import select

from harbor_api.db.models import Project, Repository, RetentionTaskResult
from harbor_api.jobs.executions import create_execution
from harbor_api.jobs.logs import TaskLog
from harbor_api.services.oci.manifests import Manifests
from harbor_api.services.retention import protection, task
from harbor_api.services.retention.rules import parse_rules
from tests.unit.oci.conftest import Core
from tests.unit.oci.test_manifest_rules import NAME, _image, _put, _resolve

RULES = [
    {
        "template": "latestPushedK",
        "params": {"latestPushedK": 1},
        "tag_selectors": [{"decoration": "matches", "pattern": "**"}],
        "scope_selectors": {"repository": [{"decoration": "repoMatches", "pattern": "**"}]},
    }
]


@dataclasses.dataclass
class Ctx:
    """What the job service hands a job (harbor_api.jobs.runner.JobContext), in-process."""

    db: object
    params: dict
    log_writer: TaskLog
    task_id: int = 1
    stop_event: threading.Event = dataclasses.field(default_factory=threading.Event)

    def log(self, message: str) -> None:
        self.log_writer.write(message)

    def should_stop(self) -> bool:
        return self.stop_event.is_set()


@pytest.fixture()
def pushed(core: Core) -> dict[str, str]:
    manifests = Manifests(core.db, core.blobs)
    return {tag: _put(manifests, tag, _image(core, tag.encode())).digest for tag in ("a", "b", "c")}


def _ctx(core: Core, dry_run: bool) -> Ctx:
    with core.db.read() as s:
        repo_id = s.scalar(select(Repository.id).where(Repository.name == NAME))
        project_id = s.scalar(select(Project.id).where(Project.name == "library"))
    params = {
        "repository": NAME,
        "repository_id": repo_id,
        "project_id": project_id,
        "dry_run": dry_run,
        "rules": parse_rules(RULES),
    }
    return Ctx(core.db, params, TaskLog(core.driver, 1))


def test_dry_run_then_real_run(core: Core, pushed):
    # the task's result row needs its task: use a real execution's task id
    with core.db.transaction() as s:
        create_execution(s, "RETENTION", "RETENTION", params={})
    ctx = _ctx(core, dry_run=True)
    task.run_repository(ctx)
    assert all(_resolve(core, digest) == digest for digest in pushed.values())
    assert ctx.log_writer.text.count("| DEL") == 2 and ctx.log_writer.text.count("| RETAIN") == 1
    ctx = _ctx(core, dry_run=False)
    task.run_repository(ctx)
    assert _resolve(core, "c") == pushed["c"]
    assert _resolve(core, "a") is None and _resolve(core, "b") is None
    with core.db.read() as s:
        result = s.get(RetentionTaskResult, 1)
        assert (result.total, result.retained) == (3, 1)


def test_the_protection_hook_keeps_what_it_names(core: Core, pushed, monkeypatch):
    with core.db.transaction() as s:
        create_execution(s, "RETENTION", "RETENTION", params={})

    def immutable_a(session, project_id, repository_id, repository, tags):
        return [artifact for artifact, names in tags.items() if "a" in names]

    monkeypatch.setattr(protection, "CHECKS", [immutable_a])
    ctx = _ctx(core, dry_run=False)
    task.run_repository(ctx)
    assert "| IMMUTABLE" in ctx.log_writer.text
    assert _resolve(core, "a") == pushed["a"] and _resolve(core, "b") is None


def test_an_artifact_retagged_after_it_was_judged_is_kept(core: Core, pushed):
    ctx = _ctx(core, dry_run=False)
    with core.db.read() as s:
        (stale,) = [c for c in task._candidates(s, ctx.params["repository_id"]) if c.tags == ("a",)]
    _put(Manifests(core.db, core.blobs), "a2", _image(core, b"a"))  # a second tag on it
    kept = task._delete_batch(
        ctx, ctx.params["project_id"], NAME, ctx.params["repository_id"], [stale]
    )
    assert kept == 1 and "CHANGED" in ctx.log_writer.text
    assert _resolve(core, "a") == pushed["a"]
