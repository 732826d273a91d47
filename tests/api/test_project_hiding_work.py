"""A hidden project and a missing one cost the same: the service issues the same SQL
statements (same text, same order) for both, so response time does not tell them apart.
Counted in-process with a ``before_cursor_execute`` listener, on both backends."""

from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import event

from harbor_api.api.paging import Page
from harbor_api.auth.principal import ANONYMOUS, Principal
from harbor_api.db.migrate import upgrade
from harbor_api.db.models import (
    Label,
    Project,
    ProjectMember,
    ProjectMetadata,
    Repository,
    User,
)
from harbor_api.db.session import Database
from harbor_api.errors import NotFoundError
from harbor_api.services import (
    artifacts,
    audit_logs,
    labels,
    members,
    projects,
    repositories,
    robots,
    tags,
)
from harbor_api.services.artifact_view import Options
from harbor_api.services.context import AppState, RequestContext
from harbor_api.services.lookup import ProjectNameOrId
from harbor_api.settings import Settings
from tests.support.servers import postgres_database

pytestmark = pytest.mark.api
OUTSIDER = Principal(kind="user", user_id=999, username="outsider")
ROBOT = Principal(
    kind="robot",
    robot_id=5,
    username="robot$other",
    robot_access=(("other", "repository", "pull"),),
)
PAGE = Page.of(1, 10)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def db(request, tmp_path_factory):
    with contextlib.ExitStack() as stack:
        if request.param == "postgresql":
            url = stack.enter_context(postgres_database())
        else:
            url = f"sqlite:///{tmp_path_factory.mktemp('hiding') / 'db.sqlite'}"
        database = Database(url)
        upgrade(database.engine)
        with database.transaction() as s:
            owner = User(
                username="owner", email="owner@example.com", realname="owner", password_hash="x"
            )
            s.add(owner)
            s.flush()
            project = Project(name="secret", owner_id=owner.id)
            project.metadata_entries.append(ProjectMetadata(name="public", value="false"))
            s.add(project)
            s.flush()
            s.add(ProjectMember(project_id=project.id, entity_type="u", entity_id=owner.id, role=1))
            s.add(Repository(project_id=project.id, name="secret/app"))
            s.add(Label(name="secret-label", scope="p", project_id=project.id))
        yield database
        database.dispose()


def _secret_id(db: Database) -> int:
    with db.read() as s:
        return s.query(Project.id).filter(Project.name == "secret").scalar()


def _label_id(db: Database) -> int:
    with db.read() as s:
        return s.query(Label.id).filter(Label.name == "secret-label").scalar()


CALLS = {
    "get": lambda c, i, n: projects.get(c, ProjectNameOrId(i)),
    "get by name": lambda c, i, n: projects.get(c, ProjectNameOrId(n, True)),
    "update": lambda c, i, n: projects.update(c, ProjectNameOrId(i), {"metadata": {}}),
    "delete": lambda c, i, n: projects.remove(c, ProjectNameOrId(i)),
    "summary": lambda c, i, n: projects.summary(c, ProjectNameOrId(i)),
    "metadatas": lambda c, i, n: projects.list_metadata(c, ProjectNameOrId(i)),
    "metadata": lambda c, i, n: projects.get_metadata(c, ProjectNameOrId(i), "public"),
    "members": lambda c, i, n: members.list_members(c, ProjectNameOrId(i), PAGE, None),
    "member": lambda c, i, n: members.get(c, ProjectNameOrId(i), 1),
    "labels": lambda c, i, n: labels.list_labels(
        c, name=None, scope="p", project_id=int(i), q=None, sort=None, offset=0, limit=10
    ),
    "robots": lambda c, i, n: robots.list_robots(c, f"ProjectID={i}", None, PAGE),
    "logs": lambda c, i, n: audit_logs.list_logs(c, n, q=None, sort=None, offset=0, limit=10),
    "repositories": lambda c, i, n: repositories.list_repositories(
        c, n, q=None, sort=None, offset=0, limit=10
    ),
    "repository": lambda c, i, n: repositories.get_repository(c, n, "app"),
    "artifacts": lambda c, i, n: artifacts.list_artifacts(
        c, n, "app", q=None, sort=None, offset=0, limit=10, opts=Options()
    ),
    "tags": lambda c, i, n: tags.list_tags(
        c, n, "app", "latest", q=None, sort=None, offset=0, limit=10
    ),
}


def _statements(db: Database, principal: Principal, call, project_id: str, name: str):
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    ctx = RequestContext(app=AppState(settings=Settings(), db=db), principal=principal)
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        with pytest.raises(NotFoundError) as raised:
            call(ctx, project_id, name)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return statements, raised.value.message


@pytest.mark.parametrize(
    "who", [OUTSIDER, ANONYMOUS, ROBOT], ids=["outsider", "anonymous", "robot"]
)
def test_label_of_a_hidden_project_costs_what_a_missing_label_does(db, who):
    hidden_id = str(_label_id(db))
    missing_id = str(int(hidden_id) + 1000)

    def call(ctx, label_id, _name):
        return labels.get_label(ctx, int(label_id))

    _statements(db, who, call, hidden_id, "")
    hidden, hidden_message = _statements(db, who, call, hidden_id, "")
    missing, missing_message = _statements(db, who, call, missing_id, "")
    assert hidden == missing and hidden
    assert hidden_message == f"label {hidden_id} not found"
    assert missing_message == f"label {missing_id} not found"


@pytest.mark.parametrize(
    "who", [OUTSIDER, ANONYMOUS, ROBOT], ids=["outsider", "anonymous", "robot"]
)
@pytest.mark.parametrize("what", sorted(CALLS))
def test_hidden_and_missing_do_the_same_work(db, who, what):
    secret = str(_secret_id(db))
    free = str(int(secret) + 1000)
    call = CALLS[what]
    call_args = (db, who, call)
    _statements(*call_args, secret, "secret")  # warm-up (once-per-interval work)
    hidden, hidden_message = _statements(*call_args, secret, "secret")
    missing, missing_message = _statements(*call_args, free, "nosuch")
    assert hidden == missing
    assert hidden  # the lookup did run
    assert hidden_message.replace(secret, "REF").replace(
        "secret", "REF"
    ) == missing_message.replace(free, "REF").replace("nosuch", "REF")
