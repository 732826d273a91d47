"""The token service: which requested scopes a caller gets (a presented token is turned
back into a principal by :class:`harbor_api.auth.bearer.BearerVerifier`).

Granted actions are the requested ones the caller is permitted (same rules as every other
check: :func:`harbor_api.auth.rbac.permissions`); a scope with nothing granted is left out.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from harbor_api.auth import rbac, robots, tokens
from harbor_api.auth.accounts import account_of, project_of, robot_state, user_state
from harbor_api.auth.authenticate import user_principal
from harbor_api.auth.keys import ServiceKey
from harbor_api.auth.principal import Principal
from harbor_api.auth.tokens import ResourceScope
from harbor_api.db.models import Robot, User
from harbor_api.services import audit, configurations
from harbor_api.services.context import AppState, ChallengeHook, RequestContext
from harbor_api.services.lookup import ProjectRef, project_refs

log = logging.getLogger(__name__)

# re-exported: the token binding rules live in auth (tests import them from here)
__all__ = [
    "REPOSITORY_ACTIONS",
    "challenge_hook",
    "grant",
    "issue_token",
    "project_of",
    "robot_state",
    "service_key",
    "subject_principal",
    "user_state",
]

REPOSITORY_ACTIONS = ("pull", "push", "delete")


def _repository_actions(granted: frozenset[tuple[str, str]], wanted: tuple[str, ...]) -> list[str]:
    allowed = {
        "pull": ("repository", "pull") in granted,
        "push": ("repository", "push") in granted,
        "delete": ("repository", "delete") in granted or ("artifact", "delete") in granted,
    }
    if "*" in wanted:
        if all(allowed.values()):
            return ["*"]
        wanted = tuple(dict.fromkeys([*[a for a in wanted if a != "*"], *REPOSITORY_ACTIONS]))
    return [a for a in wanted if allowed.get(a)]


def grant(
    session: Session,
    principal: Principal,
    requested: list[ResourceScope],
    filtered_catalog: bool = False,
    projects: dict[str, ProjectRef] | None = None,
) -> list[ResourceScope]:
    """The subset of ``requested`` the principal may have (one query for all projects).
    ``registry:catalog:*`` goes to system administrators (as Harbor), and to every
    signed-in caller when the ``filtered_catalog`` setting lists the catalog for all.
    ``projects``: the requested projects' refs when the caller has read them already."""
    if projects is None:
        projects = requested_projects(session, requested)
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


def requested_projects(session: Session, requested: list[ResourceScope]) -> dict[str, ProjectRef]:
    """The (id, name) refs of the projects ``requested`` names, by name (no ORM entities:
    rbac needs no more, and reads "public" itself)."""
    names = {project_of(s.name) for s in requested if s.type == "repository"} - {None}
    return project_refs(session, names)


def issue_token(ctx: RequestContext, scope_values: list[str] | None) -> dict[str, Any]:
    """A token for the caller holding what it asked for and may have."""
    requested = tokens.parse_scopes(scope_values)
    minutes = int(configurations.effective(ctx.db).get("token_expiration") or 30)
    key = service_key(ctx.app)
    with ctx.db.read() as s:  # the usual case writes nothing: no write transaction
        account = account_of(s, key.state_key, ctx.principal)
        refs = requested_projects(s, requested)
        granted = grant(s, ctx.principal, requested, ctx.settings.filtered_catalog, refs)
    granted_in = {project_of(g.name) for g in granted if g.type == "repository"}
    projects = {name: ref.id for name, ref in refs.items() if name in granted_in}
    denied = []
    for scope in requested:
        got = next((g for g in granted if (g.type, g.name) == (scope.type, scope.name)), None)
        if got is None or (set(scope.actions) - set(got.actions) and "*" not in got.actions):
            denied.append(scope)
    if denied:
        with ctx.db.transaction() as s:
            for scope in denied:
                audit.record(
                    s,
                    ctx.principal,
                    "denied",
                    scope.type,
                    f"{scope.name}:{','.join(scope.actions)}",
                )
    issued = tokens.issue(
        key,
        ctx.principal.username,
        granted,
        max(1, minutes) * 60,
        account=account,
        projects=projects,
    )
    scopes = [f"{g.type}:{g.name}:{','.join(g.actions)}" for g in granted]
    log.info(
        "token granted to %r for %s: %s",
        ctx.principal.username,
        tokens.AUDIENCE,
        " ".join(scopes) or "-",
        extra={
            "event": "token_granted",
            "user": ctx.principal.username,
            "service": tokens.AUDIENCE,
            "scopes": scopes,
        },
    )
    issued_at = dt.datetime.fromtimestamp(issued.issued_at, dt.UTC)
    return {
        "token": issued.token,
        "access_token": issued.token,
        "expires_in": issued.expires_in,
        "issued_at": issued_at.isoformat().replace("+00:00", "Z"),
    }


def subject_principal(session: Session, principal: Principal) -> Principal:
    """The full identity behind a Bearer principal (for what it may *see*, e.g. the
    catalog); anonymous when the subject is gone."""
    if principal.kind == "robot" and principal.robot_id is not None:
        robot = session.get(Robot, principal.robot_id)
        if robot is not None and robots.is_active(robot):
            return Principal(
                kind="robot",
                robot_id=robot.id,
                username=principal.username,
                via="bearer",
                robot_access=robots.access_entries(robot),
            )
    elif principal.kind == "user" and principal.username:
        user = session.scalar(select(User).where(User.username == principal.username))
        if user is not None:
            return user_principal(user, "bearer")
    return Principal(kind="anonymous", via="bearer")


def service_key(state: AppState) -> ServiceKey:
    """The token service's signing key (loaded once by ``create_app``)."""
    if state.token_key is None:
        raise RuntimeError("the token service's key is not loaded")
    return state.token_key


def challenge_hook(state: AppState) -> ChallengeHook:
    """``WWW-Authenticate`` for a 401 on ``/v2/``: the Bearer challenge pointing at this
    token service (the external URL when configured, else the URL the client used)."""

    def challenge(
        repository: str | None,
        actions: Iterable[str],
        base_url: str = "",
        endpoint: str | None = None,
        mount_from: str | None = None,
    ) -> str:
        base = (
            state.settings.external_url.rstrip("/")
            or base_url.rstrip("/")
            or state.settings.resolved_external_url
        )
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
