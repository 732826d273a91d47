"""No N+1 queries: list requests issue the same number of SQL statements for 1 item and for
20, counted in-process with a ``before_cursor_execute`` listener on both backends."""

from __future__ import annotations

import contextlib
import hashlib

import pytest
from sqlalchemy import event

from harbor_api.auth.principal import Principal
from harbor_api.db.migrate import upgrade
from harbor_api.db.models import (
    Artifact,
    ArtifactLabel,
    ArtifactReference,
    AuditLog,
    Label,
    Project,
    ProjectMetadata,
    Repository,
    Tag,
)
from harbor_api.db.session import Database
from harbor_api.services import artifacts, audit_logs, repositories, search
from harbor_api.services.artifact_view import Options
from harbor_api.services.context import AppState, RequestContext
from harbor_api.settings import Settings
from tests.support.servers import postgres_database

pytestmark = pytest.mark.api
ADMIN = Principal(kind="user", user_id=1, username="admin", sysadmin=True)
# not a member of anything: sees the (public) seeded projects through the RBAC queries
VISITOR = Principal(kind="user", user_id=999, username="visitor")


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def db(request, tmp_path_factory):
    with contextlib.ExitStack() as stack:
        if request.param == "postgresql":
            url = stack.enter_context(postgres_database())
        else:
            url = f"sqlite:///{tmp_path_factory.mktemp('nplus1') / 'db.sqlite'}"
        database = Database(url)
        upgrade(database.engine)
        _fill(database)
        yield database
        database.dispose()


def _fill(db: Database) -> None:
    """Projects p1 (1 repository, 1 artifact) and p20 (20 repositories, 20 artifacts)."""
    with db.transaction() as s:
        for n in (1, 20):
            project = Project(name=f"p{n}")
            project.metadata_entries.append(ProjectMetadata(name="public", value="true"))
            s.add(project)
            s.flush()
            label = Label(name=f"l{n}", scope="p", project_id=project.id)
            s.add(label)
            repo = Repository(project_id=project.id, name=f"p{n}/main")
            s.add(repo)
            s.flush()
            for i in range(n):
                s.add(Repository(project_id=project.id, name=f"p{n}/extra{i}"))
                child = Artifact(
                    repository_id=repo.id,
                    digest=_digest(f"{n}c{i}"),
                    media_type="application/vnd.oci.image.config.v1+json",
                    manifest_media_type="application/vnd.oci.image.manifest.v1+json",
                    config_digest=_digest("c"),
                )
                parent = Artifact(
                    repository_id=repo.id,
                    digest=_digest(f"{n}i{i}"),
                    media_type="application/vnd.oci.image.index.v1+json",
                    manifest_media_type="application/vnd.oci.image.index.v1+json",
                )
                s.add_all([child, parent])
                s.flush()
                s.add(
                    ArtifactReference(
                        parent_id=parent.id,
                        child_id=child.id,
                        child_digest=child.digest,
                        platform='{"os":"linux"}',
                    )
                )
                s.add_all(
                    [
                        Tag(repository_id=repo.id, artifact_id=parent.id, name=f"t{i}-{k}")
                        for k in range(3)
                    ]
                )
                s.add(ArtifactLabel(artifact_id=parent.id, label_id=label.id))
                s.add(
                    Artifact(
                        repository_id=repo.id,
                        digest=_digest(f"{n}s{i}"),
                        media_type="application/vnd.oci.empty.v1+json",
                        manifest_media_type="application/vnd.oci.image.manifest.v1+json",
                        artifact_type="application/vnd.dev.cosign.artifact.sig.v1+json",
                        subject_digest=parent.digest,
                    )
                )
                s.add(
                    AuditLog(
                        project_id=project.id,
                        operation="push",
                        resource_type="artifact",
                        resource=f"p{n}/main:t{i}",
                        username="admin",
                    )
                )


@contextlib.contextmanager
def counting(db: Database):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def _ctx(db: Database, principal: Principal = ADMIN) -> RequestContext:
    return RequestContext(app=AppState(settings=Settings(), db=db), principal=principal)


def _both(db, call):
    """Statement counts and result sizes for n=1 and n=20 (after a warm-up call, so that
    once-per-interval work such as the audit retention purge is not counted)."""
    call(1)
    counts, sizes = [], []
    for n in (1, 20):
        with counting(db) as statements:
            items, total = call(n)
        counts.append(len(statements))
        sizes.append(len(items))
    return counts, sizes


@pytest.mark.parametrize("who", [ADMIN, VISITOR], ids=["admin", "visitor"])
def test_artifact_list_is_constant(db, who):
    opts = Options(with_tag=True, with_label=True, with_accessory=True, with_signature=True)
    counts, sizes = _both(
        db,
        lambda n: artifacts.list_artifacts(
            _ctx(db, who), f"p{n}", "main", q=None, sort=None, offset=0, limit=100, opts=opts
        ),
    )
    assert sizes == [1, 20]
    assert counts[0] == counts[1], counts


def test_repository_lists_are_constant(db):
    counts, sizes = _both(
        db,
        lambda n: repositories.list_repositories(
            _ctx(db), f"p{n}", q=None, sort=None, offset=0, limit=100
        ),
    )
    assert sizes == [2, 21] and counts[0] == counts[1], counts


def test_audit_log_list_is_constant(db):
    counts, sizes = _both(
        db,
        lambda n: audit_logs.list_logs(_ctx(db), f"p{n}", q=None, sort=None, offset=0, limit=100),
    )
    assert sizes == [1, 20] and counts[0] == counts[1], counts


@pytest.mark.parametrize("who", [ADMIN, VISITOR], ids=["admin", "visitor"])
def test_search_is_constant(db, who):
    counts, sizes = _both(
        db, lambda n: (lambda r: (r["repository"], 0))(search.search(_ctx(db, who), f"p{n}/"))
    )
    assert sizes == [2, 21] and counts[0] == counts[1], counts
