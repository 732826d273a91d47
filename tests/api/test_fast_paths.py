"""Each fast path beside its general path gives the general path's answers, on the same inputs.

- Basic: :meth:`Authenticator.basic_cached` (one indexed read on the event loop) against
  :meth:`Authenticator.basic` (throttle, KDF, robots, directory).
- Bearer: :class:`BearerVerifier`'s one-statement check of the usual token and its prebuilt
  one-project statement, against the general path (``fast_path=False``).

In-process, on real SQLite and PostgreSQL databases built by the project's own migrations,
bootstrap and services. A fast path may decline (None: "ask the general path"); when it
answers, its answer is the general path's. Each scenario also checks that the fast path did
answer where it is meant to, so the comparison is not vacuous.
"""

from __future__ import annotations

import contextlib
import time

import pytest
from sqlalchemy import event, select

from harbor_api.auth import tokens as jwt_tokens
from harbor_api.auth.authenticate import Authenticator
from harbor_api.auth.bearer import BearerVerifier
from harbor_api.auth.bearer_verdicts import BearerVerdicts
from harbor_api.auth.keys import load_service_key
from harbor_api.auth.principal import Principal
from harbor_api.db.migrate import upgrade
from harbor_api.db.models import Robot, User
from harbor_api.db.session import Database
from harbor_api.errors import HarborError
from harbor_api.services import members, projects, robots, users
from harbor_api.services.bootstrap import bootstrap
from harbor_api.services.context import AppState, RequestContext
from harbor_api.services.lookup import ProjectNameOrId
from harbor_api.services.tokens import account_of, grant, service_key
from harbor_api.settings import Settings
from tests.support.servers import postgres_database

pytestmark = pytest.mark.api
ADMIN_PASSWORD = "Harbor12345"
PASSWORD = "Passw0rd-fast"
ADMIN = Principal(kind="user", user_id=1, username="admin", sysadmin=True, via="basic")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def state(request, tmp_path_factory):
    with contextlib.ExitStack() as stack:
        tmp = tmp_path_factory.mktemp("fast")
        url = (
            stack.enter_context(postgres_database())
            if request.param == "postgresql"
            else f"sqlite:///{tmp / 'db.sqlite'}"
        )
        settings = Settings(data_dir=tmp, database_url=url)
        db = Database(url)
        upgrade(db.engine)
        bootstrap(db, ADMIN_PASSWORD)
        state = AppState(settings=settings, db=db, authenticator=Authenticator(db, settings))
        state.token_key = load_service_key(settings)
        _populate(state)
        yield state
        db.dispose()


def _ctx(state: AppState, principal: Principal = ADMIN) -> RequestContext:
    return RequestContext(app=state, principal=principal)


def _populate(state: AppState) -> None:
    ctx = _ctx(state)
    for name in ("alice", "bob", "carol", "dave", "erin"):
        users.create_user(
            ctx,
            {
                "username": name,
                "password": PASSWORD,
                "email": f"{name}@example.com",
                "realname": name,
            },
        )
    projects.create(ctx, {"project_name": "pub", "metadata": {"public": "true"}})
    projects.create(ctx, {"project_name": "priv", "metadata": {"public": "false"}})
    projects.create(ctx, {"project_name": "other", "metadata": {"public": "false"}})
    members.create(
        ctx, ProjectNameOrId("priv", True), {"role_id": 2, "member_user": {"username": "alice"}}
    )  # developer
    members.create(
        ctx, ProjectNameOrId("other", True), {"role_id": 3, "member_user": {"username": "alice"}}
    )  # guest
    for name, perms in (
        ("puller", [("pull",)]),
        ("pusher", [("pull",), ("push",)]),
        ("sleepy", [("pull",)]),
    ):
        robots.create(
            ctx,
            {
                "name": name,
                "level": "system",
                "duration": -1,
                "secret": f"Robot-{name}-S3cret",
                "permissions": [
                    {
                        "kind": "project",
                        "namespace": "priv",
                        "access": [{"resource": "repository", "action": a} for (a,) in perms],
                    }
                ],
            },
        )


def _user_id(state: AppState, name: str) -> int:
    with state.db.read() as s:
        return s.scalar(select(User.id).where(User.username == name))


def _robot_id(state: AppState, name: str) -> int:
    with state.db.read() as s:
        return s.scalar(select(Robot.id).where(Robot.name == name))


# --- Basic ---------------------------------------------------------------------------------


def _general(auth: Authenticator, username: str, password: str):
    try:
        return auth.basic(username, password)
    except HarborError as exc:  # e.g. a locked name: an answer too
        return type(exc).__name__, exc.status, exc.message


def _same_basic(state: AppState, username: str, password: str) -> Principal | None:
    """Both paths on one input; the fast one first (it has no side effects)."""
    auth = state.authenticator
    fast = auth.basic_cached(username, password)
    general = _general(auth, username, password)
    assert fast is None or fast == general, (username, fast, general)
    return fast


BASIC_INPUTS = [
    ("admin", ADMIN_PASSWORD),
    ("alice", PASSWORD),
    ("ａｌｉｃｅ", PASSWORD),  # NFKC form
    ("bob", PASSWORD),
    ("alice", "wrong"),
    ("nobody", PASSWORD),
    ("alice", ""),
    ("", PASSWORD),
    ("al\x00ice", PASSWORD),
    ("robot$puller", "Robot-puller-S3cret"),
    ("robot$puller", "wrong"),
    ("robot$nobody", "x"),
]


def test_basic_fast_path_answers_as_the_general_path(state):
    assert state.authenticator.basic_cached("alice", PASSWORD) is None  # cold: unknown
    for username, password in BASIC_INPUTS * 2:  # then warm: the general path verified some
        _same_basic(state, username, password)
    # the fast path did answer where it is meant to: local users, recently verified, with no
    # failure counted since ("alice", "wrong") counted one: the next success resets it)
    for username in ("admin", "alice", "ａｌｉｃｅ", "bob"):
        password = ADMIN_PASSWORD if username == "admin" else PASSWORD
        _same_basic(state, username, password)
        assert _same_basic(state, username, password) is not None, username
    # never for robots (their secret and state are the general path's business)
    assert state.authenticator.basic_cached("robot$puller", "Robot-puller-S3cret") is None


def test_basic_paths_agree_after_account_changes(state):
    ctx = _ctx(state)
    for name in ("carol", "dave", "erin"):
        _same_basic(state, name, PASSWORD)
        assert _same_basic(state, name, PASSWORD) is not None
    # a new password: the old one is refused by both
    users.change_password(ctx, _user_id(state, "carol"), None, "N3w-Passw0rd")
    assert _same_basic(state, "carol", PASSWORD) is None
    assert _same_basic(state, "carol", "N3w-Passw0rd") is None  # cold for the new one
    assert _same_basic(state, "carol", "N3w-Passw0rd") is not None
    # promoted to system administrator: both say so at once
    users.set_sysadmin(ctx, _user_id(state, "dave"), True)
    assert _same_basic(state, "dave", PASSWORD).sysadmin is True
    # deleted: both refuse
    users.delete_user(ctx, _user_id(state, "erin"))
    assert _same_basic(state, "erin", PASSWORD) is None
    # a wrong password counts a failure: the fast path steps aside until a success resets it
    _same_basic(state, "bob", PASSWORD)
    _same_basic(state, "bob", "wrong")
    assert state.authenticator.basic_cached("bob", PASSWORD) is None
    _same_basic(state, "bob", PASSWORD)
    assert _same_basic(state, "bob", PASSWORD) is not None
    # locked after repeated failures: the general path raises, the fast path declines
    for _ in range(state.settings.login_lock_after):
        _same_basic(state, "dave", "wrong")
    assert _same_basic(state, "dave", PASSWORD) is None
    assert isinstance(_general(state.authenticator, "dave", PASSWORD), tuple)
    # a disabled robot: the fast path never answers for robots; the general one refuses
    robots.update(ctx, _robot_id(state, "sleepy"), {"disable": True})
    assert _same_basic(state, "robot$sleepy", "Robot-sleepy-S3cret") is None
    assert _general(state.authenticator, "robot$sleepy", "Robot-sleepy-S3cret") is None


# --- Bearer --------------------------------------------------------------------------------


def _token(state: AppState, principal: Principal, scopes: list[str], age: int = 0) -> str:
    """A token as the token service issues it (its own grant and account binding)."""
    key = service_key(state)
    requested = jwt_tokens.parse_scopes(scopes)
    with state.db.read() as s:
        account = account_of(s, key.state_key, principal)
        granted = grant(s, principal, requested)
    return jwt_tokens.issue(
        key, principal.username, granted, 1800, now=time.time() - age, account=account
    ).token


def _same_bearer(verifier: BearerVerifier, token: str) -> Principal | None:
    fast = verifier(token)
    general = verifier(token, fast_path=False)
    assert fast == general, (fast, general)
    return fast


def _login(state: AppState, username: str, password: str = PASSWORD) -> Principal:
    found = state.authenticator.basic(username, password)
    assert found is not None, username
    return found


SCOPES = [
    ["repository:priv/app:pull,push"],
    ["repository:priv/app:pull"],
    ["repository:pub/app:pull"],
    ["repository:priv/app:*"],
    ["repository:other/app:pull,push"],
    ["repository:priv/app:pull", "repository:priv/lib/x:pull"],  # one project, two repos
    ["repository:priv/app:pull", "repository:pub/app:pull"],  # two projects
    ["repository:nosuch/app:pull"],
    ["registry:catalog:*"],
    ["registry:catalog:*", "repository:priv/app:pull"],
    [],
]


@pytest.mark.parametrize("scopes", SCOPES, ids=lambda s: " ".join(s) or "none")
def test_bearer_fast_path_answers_as_the_general_path(state, scopes):
    verifier = BearerVerifier(state.db, state.token_key, state.authenticator.robot_prefix)
    principals = [
        _login(state, "admin", ADMIN_PASSWORD),
        _login(state, "alice"),
        _login(state, "bob"),
        _login(state, "robot$puller", "Robot-puller-S3cret"),
        _login(state, "robot$pusher", "Robot-pusher-S3cret"),
        Principal(kind="anonymous"),
    ]
    for principal in principals:
        token = _token(state, principal, scopes)
        answer = _same_bearer(verifier, token)
        assert answer is not None and answer.username == principal.username
    assert _same_bearer(verifier, "not-a-token") is None


def test_the_usual_token_takes_the_fast_path(state):
    """A user's token for one project: the one-statement path answers by itself."""
    verifier = BearerVerifier(state.db, state.token_key, state.authenticator.robot_prefix)
    token = _token(state, _login(state, "alice"), ["repository:priv/app:pull,push"])
    verified = verifier.verified.verify(service_key(state), token)
    fast = verifier._usual(verified, service_key(state).state_key)
    assert fast is not None and fast == verifier(token, fast_path=False)
    assert fast.token_access == (("repository", "priv/app", ("pull", "push")),)


def test_bearer_paths_agree_after_changes(state):
    ctx = _ctx(state)
    verifier = BearerVerifier(state.db, state.token_key, state.authenticator.robot_prefix)
    old = 0
    tokens_before = {
        "alice": _token(state, _login(state, "alice"), ["repository:priv/app:pull,push"], old),
        "alice-two": _token(
            state,
            _login(state, "alice"),
            ["repository:priv/app:pull", "repository:other/app:pull"],
            old,
        ),
        "bob": _token(state, _login(state, "bob"), ["repository:pub/app:pull"], old),
        "robot": _token(
            state,
            _login(state, "robot$pusher", "Robot-pusher-S3cret"),
            ["repository:priv/app:pull,push"],
            old,
        ),
    }
    for token in tokens_before.values():
        assert _same_bearer(verifier, token) is not None
    # the project is deleted and recreated: old tokens lose its access on both paths
    time.sleep(1.1)  # token times are whole seconds: the new project is strictly younger
    projects.remove(ctx, ProjectNameOrId("pub", True))
    projects.create(ctx, {"project_name": "pub", "metadata": {"public": "true"}})
    assert _same_bearer(verifier, tokens_before["bob"]).token_access == ()
    # a deleted project: the same
    projects.remove(ctx, ProjectNameOrId("other", True))
    assert _same_bearer(verifier, tokens_before["alice-two"]).token_access == (
        ("repository", "priv/app", ("pull",)),
    )
    # the robot is disabled, then deleted: its token is refused on both paths
    robots.update(ctx, _robot_id(state, "pusher"), {"disable": True})
    assert _same_bearer(verifier, tokens_before["robot"]) is None
    robots.delete(ctx, _robot_id(state, "pusher"))
    assert _same_bearer(verifier, tokens_before["robot"]) is None
    # a new password ends the user's tokens; so does deleting the user
    users.change_password(ctx, _user_id(state, "alice"), None, "An0ther-Passw0rd")
    assert _same_bearer(verifier, tokens_before["alice"]) is None
    users.delete_user(ctx, _user_id(state, "bob"))
    assert _same_bearer(verifier, tokens_before["bob"]) is None


# --- Remembered Bearer verdicts ------------------------------------------------------------


@contextlib.contextmanager
def _statements(state: AppState):
    """The SQL statements run on the state's engine inside the block."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_rest) -> None:
        seen.append(statement)

    event.listen(state.db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(state.db.engine, "before_cursor_execute", record)


def test_a_remembered_verdict_reads_nothing_and_ends_at_a_change_made_here(state):
    ctx = _ctx(state)
    users.create_user(
        ctx,
        {"username": "gina", "password": PASSWORD, "email": "g@example.com", "realname": "g"},
    )
    members.create(
        ctx, ProjectNameOrId("priv", True), {"role_id": 2, "member_user": {"username": "gina"}}
    )
    verifier = BearerVerifier(state.db, state.token_key, state.authenticator.robot_prefix)
    token = _token(state, _login(state, "gina"), ["repository:priv/app:pull"])
    first = _same_bearer(verifier, token)
    assert first is not None and first.token_access
    with _statements(state) as seen:
        assert verifier(token) == first and seen == []  # remembered: no statement
    users.set_sysadmin(ctx, _user_id(state, "gina"), True)  # the seal changes
    assert verifier.known(token) is None  # forgotten at once
    with _statements(state) as seen:
        assert verifier(token) is None and seen  # read again, and refused


def test_a_change_made_by_another_process_is_seen_within_the_bound(state):
    """A write this process did not make (on a raw DBAPI connection, as another worker's) ends a
    remembered verdict within ``RECHECK_SECONDS`` (here shortened), not at once."""
    ctx = _ctx(state)
    users.create_user(
        ctx,
        {"username": "hugo", "password": PASSWORD, "email": "h@example.com", "realname": "h"},
    )
    verifier = BearerVerifier(state.db, state.token_key, state.authenticator.robot_prefix)
    verifier.verdicts = BearerVerdicts(seconds=0.3)
    token = _token(state, _login(state, "hugo"), ["repository:pub/app:pull"])
    assert verifier(token) is not None
    raw = state.db.engine.raw_connection()  # not seen by table_writes
    try:
        cursor = raw.cursor()
        # a new password hash: the token's seal no longer matches
        cursor.execute(f"UPDATE users SET password_hash = 'x' WHERE id = {_user_id(state, 'hugo')}")
        cursor.close()
        raw.commit()
    finally:
        raw.close()
    deadline = time.monotonic() + 5
    while verifier(token) is not None:
        assert time.monotonic() < deadline, "the deleted account's token is still honoured"
        time.sleep(0.05)
    assert verifier(token, fast_path=False) is None


def test_refusals_and_the_general_path_are_never_remembered(state):
    users.create_user(
        _ctx(state),
        {"username": "ivan", "password": PASSWORD, "email": "i@example.com", "realname": "i"},
    )
    verifier = BearerVerifier(state.db, state.token_key, state.authenticator.robot_prefix)
    assert verifier("not-a-token") is None
    token = _token(state, _login(state, "ivan"), ["repository:pub/app:pull"])
    assert verifier(token, fast_path=False) is not None
    assert len(verifier.verdicts._entries) == 0
