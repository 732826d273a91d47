"""The token service: which requested scopes a caller gets, and turning a presented token
back into a principal.

Granted actions are the requested ones the caller is permitted (same rules as every other
check: :func:`harbor_api.auth.rbac.permissions`); a scope with nothing granted is left out.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from harbor_api.auth import rbac, tokens
from harbor_api.auth.principal import Principal
from harbor_api.auth.token_cache import VerifiedTokenCache
from harbor_api.auth.tokens import Account, ResourceScope
from harbor_api.db.models import Project, Robot, User
from harbor_api.errors import UnauthorizedError
from harbor_api.services import audit, configurations
from harbor_api.services.context import AppState, RequestContext
from harbor_api.services.lookup import project_refs

log = logging.getLogger(__name__)

TOKEN_KEY = "token_key"
REPOSITORY_ACTIONS = ("pull", "push", "delete")
# Core statements by primary key: they run on every /v2 request with a token
_USER_ROW = select(User.username, User.password_hash, User.sysadmin).where(
    User.id == bindparam("id"))
_ROBOT_ROW = select(Robot.name, Robot.secret_hash, Robot.permissions, Robot.expires_at,
                    Robot.disabled).where(Robot.id == bindparam("id"))
_PROJECT_CREATED = select(Project.name, Project.creation_time).where(
    Project.name == bindparam("name"))
_USER_AND_PROJECT_CREATED = select(
    _USER_ROW.subquery("u"),
    select(Project.creation_time).where(Project.name == bindparam("project"))
    .scalar_subquery().label("created"))


def _seal(state_key: bytes, *parts) -> str:
    mac = hmac.new(state_key, "\0".join(str(p) for p in parts).encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:16]).decode().rstrip("=")


def user_state(state_key: bytes, row) -> str:
    """What a user's token is bound to besides the id: the stored password hash (salted:
    a new password, or a new account of the same name, seals differently) and the system
    administrator flag (the rights the token was granted with)."""
    return _seal(state_key, "user", row.password_hash or "", bool(row.sysadmin))


def robot_state(state_key: bytes, row) -> str:
    """A robot's: its secret hash (a refresh ends old tokens), permissions and expiry; a
    description change or a disable/enable round trip leaves its tokens alone."""
    return _seal(state_key, "robot", row.secret_hash, row.permissions or "[]",
                 int(row.expires_at))


def account_of(session: Session, state_key: bytes, principal: Principal) -> Account | None:
    """The binding for a token issued to ``principal`` now; None when it is anonymous."""
    if principal.kind == "user" and principal.user_id is not None:
        row = session.connection().execute(_USER_ROW, {"id": principal.user_id}).first()
        if row is not None and row.username == principal.username:
            return Account("user", principal.user_id, user_state(state_key, row))
    elif principal.kind == "robot" and principal.robot_id is not None:
        row = session.connection().execute(_ROBOT_ROW, {"id": principal.robot_id}).first()
        if row is not None:
            return Account("robot", principal.robot_id, robot_state(state_key, row))
    elif not principal.authenticated:
        return None
    raise UnauthorizedError("the account no longer exists")


def service_key(state: AppState):
    return state.extras[TOKEN_KEY]


def project_of(repository: str) -> str | None:
    """The project part of ``<project>/<path>``; None for a name without a project."""
    project, sep, rest = repository.partition("/")
    return project if sep and rest else None


def _repository_actions(granted: frozenset[tuple[str, str]], wanted: tuple[str, ...]
                        ) -> list[str]:
    allowed = {"pull": ("repository", "pull") in granted,
               "push": ("repository", "push") in granted,
               "delete": ("repository", "delete") in granted or ("artifact", "delete") in
               granted}
    if "*" in wanted:
        if all(allowed.values()):
            return ["*"]
        wanted = tuple(dict.fromkeys([*[a for a in wanted if a != "*"], *REPOSITORY_ACTIONS]))
    return [a for a in wanted if allowed.get(a)]


def grant(session: Session, principal: Principal, requested: list[ResourceScope],
          filtered_catalog: bool = False) -> list[ResourceScope]:
    """The subset of ``requested`` the principal may have (one query for all projects).
    ``registry:catalog:*`` goes to system administrators (as Harbor), and to every
    signed-in caller when the ``filtered_catalog`` setting lists the catalog for all."""
    names = {project_of(s.name) for s in requested if s.type == "repository"} - {None}
    # (id, name) refs, no ORM entities: rbac needs no more, and reads "public" itself
    projects = project_refs(session, names)
    cache: dict[int, frozenset[tuple[str, str]]] = {}
    result = []
    for scope in requested:
        actions: list[str] = []
        if scope.type == "repository":
            project = projects.get(project_of(scope.name) or "")
            if project is not None:
                if project.id not in cache:
                    cache[project.id] = rbac.permissions(session, principal, project)
                actions = _repository_actions(cache[project.id], scope.actions)
        elif scope.type == "registry" and scope.name == "catalog":
            allowed = principal.sysadmin or (filtered_catalog and principal.authenticated)
            actions = ["*"] if allowed and "*" in scope.actions else []
        if actions:
            result.append(ResourceScope(scope.type, scope.name, tuple(actions)))
    return result


def issue_token(ctx: RequestContext, scope_values: list[str] | None) -> dict:
    """A token for the caller holding what it asked for and may have."""
    requested = tokens.parse_scopes(scope_values)
    minutes = int(configurations.effective(ctx.db).get("token_expiration") or 30)
    key = service_key(ctx.app)
    with ctx.db.read() as s:  # the usual case writes nothing: no write transaction
        account = account_of(s, key.state_key, ctx.principal)
        granted = grant(s, ctx.principal, requested, ctx.settings.filtered_catalog)
    denied = []
    for scope in requested:
        got = next((g for g in granted if (g.type, g.name) == (scope.type, scope.name)), None)
        if got is None or (set(scope.actions) - set(got.actions) and "*" not in got.actions):
            denied.append(scope)
    if denied:
        with ctx.db.transaction() as s:
            for scope in denied:
                audit.record(s, ctx.principal, "denied", scope.type,
                             f"{scope.name}:{','.join(scope.actions)}")
    issued = tokens.issue(key, ctx.principal.username, granted, max(1, minutes) * 60,
                          account=account)
    scopes = [f"{g.type}:{g.name}:{','.join(g.actions)}" for g in granted]
    log.info("token granted to %r for %s: %s", ctx.principal.username, tokens.AUDIENCE,
             " ".join(scopes) or "-",
             extra={"event": "token_granted", "user": ctx.principal.username,
                    "service": tokens.AUDIENCE, "scopes": scopes})
    issued_at = dt.datetime.fromtimestamp(issued.issued_at, dt.UTC)
    return {"token": issued.token, "access_token": issued.token,
            "expires_in": issued.expires_in,
            "issued_at": issued_at.isoformat().replace("+00:00", "Z")}


class BearerVerifier:
    """``RootApp.bearer``: a presented token → a principal limited to the token's access.

    A token names its account by id and by a seal of its credential state; it is honoured
    only while that account exists under that name in that state (and, for a robot, is
    neither disabled nor expired): checked on every request by primary key, so deleting,
    disabling or replacing an account ends its tokens at once. Access to a project created
    after the token was issued is dropped (a deleted and recreated project is not reachable
    with old tokens).
    """

    def __init__(self, state: AppState) -> None:
        from harbor_api.auth.authenticate import RobotPrefix

        self.state = state
        self.robot_prefix = getattr(state.authenticator, "robot_prefix", None) \
            or RobotPrefix(state.db)
        self.verified = VerifiedTokenCache()  # signature checks only; DB checks stay per call
        # Only indexed reads happen here: RootApp runs it on the event loop on SQLite.

    def __call__(self, token: str, _scope: dict | None = None, *,
                 fast_path: bool = True) -> Principal | None:
        """``fast_path=False`` decides every token on the general path (the tests hold the
        two to the same answers)."""
        key = service_key(self.state)
        verified = self.verified.verify(key, token)
        if verified is None:
            return None
        quick = self._usual(verified, key.state_key) if fast_path else None
        if quick is not None:
            return quick
        with self.state.db.read() as s:
            base = self._subject(s, verified, key.state_key)
            if base is None:
                return None
            access = self._still_valid(s, verified, prebuilt=fast_path)
        entries = tuple((a.type, a.name, tuple(a.actions)) for a in access)
        # no user id: a registry token is no credential for the management API's roles
        return Principal(kind=base.kind, username=base.username, via="bearer",
                         robot_id=base.robot_id, token_access=entries)

    def _usual(self, verified: tokens.VerifiedToken, state_key: bytes) -> Principal | None:
        """The usual token (a user's, for repositories of one project) checked with one
        statement on a pooled connection; None when it is not that case (the general path
        then decides)."""
        account = verified.account
        names = {project_of(a.name) for a in verified.access if a.type == "repository"}
        if account is None or account.kind != "user" or len(names) != 1 or None in names \
                or any(a.type != "repository" for a in verified.access):
            return None
        with self.state.db.engine.connect() as connection:
            row = connection.execute(_USER_AND_PROJECT_CREATED,
                                     {"id": account.id, "project": next(iter(names))}).first()
        if row is None or not self._same_user(row, verified, state_key):
            return None  # the general path says no (and knows why)
        if row.created is None or int(row.created.timestamp()) > verified.issued_at:
            access: tuple = ()
        else:
            access = tuple((a.type, a.name, tuple(a.actions)) for a in verified.access)
        return Principal(kind="user", username=row.username, via="bearer",
                         token_access=access)

    @staticmethod
    def _same_user(row, verified: tokens.VerifiedToken, state_key: bytes) -> bool:
        return row.username == verified.subject and hmac.compare_digest(
            user_state(state_key, row), verified.account.state)

    def _subject(self, s: Session, verified: tokens.VerifiedToken, state_key: bytes
                 ) -> Principal | None:
        subject, account = verified.subject, verified.account
        if not subject:
            return Principal(kind="anonymous")
        if account is None:  # a name alone is no identity (e.g. a token from before binding)
            return None
        from harbor_api.services import robots  # robots import this module's neighbours

        if account.kind == "robot":
            row = s.connection().execute(_ROBOT_ROW, {"id": account.id}).first()
            if row is None or self.robot_prefix.get() + row.name != subject \
                    or not robots.is_active(row) \
                    or not hmac.compare_digest(robot_state(state_key, row), account.state):
                return None
            return Principal(kind="robot", robot_id=account.id, username=subject)
        row = s.connection().execute(_USER_ROW, {"id": account.id}).first()
        if row is None or not self._same_user(row, verified, state_key):
            return None
        return Principal(kind="user", username=row.username)

    @staticmethod
    def _still_valid(s: Session, verified: tokens.VerifiedToken, prebuilt: bool = True
                     ) -> list[ResourceScope]:
        names = {project_of(a.name) for a in verified.access if a.type == "repository"}
        names.discard(None)
        if len(names) == 1 and prebuilt:  # the usual token: one project, a prebuilt statement
            created = dict(s.connection().execute(_PROJECT_CREATED,
                                                  {"name": next(iter(names))}).all())
        else:
            query = select(Project.name, Project.creation_time).where(Project.name.in_(names))
            created = dict(s.connection().execute(query).all()) if names else {}
        kept = []
        for entry in verified.access:
            if entry.type == "repository":
                when = created.get(project_of(entry.name) or "")
                if when is None or int(when.timestamp()) > verified.issued_at:
                    continue
            kept.append(entry)
        return kept


def subject_principal(session: Session, principal: Principal) -> Principal:
    """The full identity behind a Bearer principal (for what it may *see*, e.g. the
    catalog); anonymous when the subject is gone."""
    from harbor_api.auth.authenticate import user_principal
    from harbor_api.services import robots

    if principal.kind == "robot" and principal.robot_id is not None:
        robot = session.get(Robot, principal.robot_id)
        if robot is not None and robots.is_active(robot):
            return Principal(kind="robot", robot_id=robot.id, username=principal.username,
                             via="bearer", robot_access=robots.access_entries(robot))
    elif principal.kind == "user" and principal.username:
        user = session.scalar(select(User).where(User.username == principal.username))
        if user is not None:
            return user_principal(user, "bearer")
    return Principal(kind="anonymous", via="bearer")


def challenge_hook(state: AppState):
    """``WWW-Authenticate`` for a 401 on ``/v2/``: the Bearer challenge pointing at this
    token service (the external URL when configured, else the URL the client used)."""

    def challenge(repository: str | None, actions, base_url: str = "",
                  endpoint: str | None = None, mount_from: str | None = None) -> str:
        base = state.settings.external_url.rstrip("/") or base_url.rstrip("/") \
            or state.settings.resolved_external_url
        parts = [f'realm="{base}/service/token"', f'service="{tokens.AUDIENCE}"']
        if repository:
            wanted = set(actions) | ({"pull"} if "push" in actions else set())
            ordered = [a for a in ("pull", "push", "delete") if a in wanted]
            scopes = f"repository:{repository}:{','.join(ordered)}"
            if mount_from:  # a mount also needs pull on its source (space-separated scopes)
                scopes += f" repository:{mount_from}:pull"
            parts.append(f'scope="{scopes}"')
        elif endpoint == "catalog":
            parts.append('scope="registry:catalog:*"')
        return "Bearer " + ",".join(parts)

    return challenge
