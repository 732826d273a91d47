"""Bearer tokens presented on ``/v2/``: a token back into a principal limited to its access.

The root app calls :class:`BearerVerifier` for every ``Authorization: Bearer`` request; the
token service that issues them is :mod:`harbor_api.services.tokens`.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from harbor_api.auth import robots, token_cache, tokens
from harbor_api.auth.accounts import (
    PROJECT_CREATED,
    ROBOT_ROW,
    USER_AND_PROJECT_CREATED,
    USER_ROW,
    UserCredentials,
    project_of,
    robot_state,
    user_state,
)
from harbor_api.auth.bearer_verdicts import BearerVerdicts
from harbor_api.auth.keys import ServiceKey
from harbor_api.auth.principal import Principal
from harbor_api.auth.token_cache import VerifiedTokenCache
from harbor_api.auth.tokens import ResourceScope
from harbor_api.db.models import Project
from harbor_api.db.session import Database

TokenAccess = tuple[tuple[str, str, tuple[str, ...]], ...]


class UserRow(UserCredentials, Protocol):
    @property
    def username(self) -> str: ...


class NamePrefix(Protocol):
    """The configured robot name prefix, read per request (``authenticate.RobotPrefix``)."""

    def get(self) -> str: ...


class BearerVerifier:
    """``RootApp.bearer``: a presented token → a principal limited to the token's access.

    A token names its account by id and by a seal of its credential state; it is honoured
    only while that account exists under that name in that state (and, for a robot, is
    neither disabled nor expired): checked by primary key, the answer then reused for at
    most a second and only until this process writes an account or project
    (:mod:`harbor_api.auth.bearer_verdicts`), so deleting, disabling or replacing an account
    ends its tokens at once here and within a second on other workers. Access to a project
    created after the token was issued is dropped (a deleted and recreated project is not
    reachable with old tokens).
    """

    def __init__(self, db: Database, key: ServiceKey, robot_prefix: NamePrefix) -> None:
        self.db = db
        self.key = key
        self.robot_prefix = robot_prefix
        self.verified = VerifiedTokenCache()  # signature checks only
        self.verdicts = BearerVerdicts()  # whole answers, for a bounded time (see there)
        # Only indexed reads happen here: RootApp runs it on the event loop on SQLite.

    def known(self, token: str) -> Principal | None:
        """The remembered verdict on ``token`` (no I/O: may run on the event loop)."""
        return self.verdicts.get(token_cache.slot_of(self.key, token))

    def __call__(
        self, token: str, _scope: Mapping[str, Any] | None = None, *, fast_path: bool = True
    ) -> Principal | None:
        """``fast_path=False`` decides every token on the general path, reading the
        database every time (the tests hold the paths to the same answers)."""
        key = self.key
        slot = token_cache.slot_of(key, token)
        if not fast_path:
            return self._decide(token, slot, fast_path=False)
        known = self.verdicts.get(slot)
        if known is not None:
            return known
        generation = self.verdicts.generation()  # before the reads the verdict is made of
        found = self._decide(token, slot, fast_path=True)
        expires = token_cache.expiry(token) if found is not None else None
        if found is not None and expires is not None:
            self.verdicts.put(slot, found, generation, expires)
        return found

    def _decide(self, token: str, slot: bytes, fast_path: bool) -> Principal | None:
        key = self.key
        verified = self.verified.verify(key, token, slot)
        if verified is None:
            return None
        quick = self._usual(verified, key.state_key) if fast_path else None
        if quick is not None:
            return quick
        with self.db.read() as s:
            base = self._subject(s, verified, key.state_key)
            if base is None:
                return None
            access = self._still_valid(s, verified, prebuilt=fast_path)
        entries = tuple((a.type, a.name, tuple(a.actions)) for a in access)
        # no user id: a registry token is no credential for the management API's roles
        return Principal(
            kind=base.kind,
            username=base.username,
            via="bearer",
            robot_id=base.robot_id,
            token_access=entries,
        )

    def _usual(self, verified: tokens.VerifiedToken, state_key: bytes) -> Principal | None:
        """The usual token (a user's, for repositories of one project) checked with one
        statement on a pooled connection; None when it is not that case (the general path
        then decides)."""
        account = verified.account
        names = {project_of(a.name) for a in verified.access if a.type == "repository"}
        if (
            account is None
            or account.kind != "user"
            or len(names) != 1
            or None in names
            or any(a.type != "repository" for a in verified.access)
        ):
            return None
        with self.db.engine.connect() as connection:
            row = connection.execute(
                USER_AND_PROJECT_CREATED, {"id": account.id, "project": next(iter(names))}
            ).first()
        if row is None or not self._same_user(row, verified, state_key):
            return None  # the general path says no (and knows why)
        access: TokenAccess
        if (
            row.created is None
            or int(row.created.timestamp()) > verified.issued_at
            or _another_project(verified, next(iter(names)) or "", row.project_id)
        ):
            access = ()
        else:
            access = tuple((a.type, a.name, tuple(a.actions)) for a in verified.access)
        return Principal(kind="user", username=row.username, via="bearer", token_access=access)

    @staticmethod
    def _same_user(row: UserRow, verified: tokens.VerifiedToken, state_key: bytes) -> bool:
        account = verified.account
        return (
            account is not None
            and row.username == verified.subject
            and hmac.compare_digest(user_state(state_key, row), account.state)
        )

    def _subject(
        self, s: Session, verified: tokens.VerifiedToken, state_key: bytes
    ) -> Principal | None:
        subject, account = verified.subject, verified.account
        if not subject:
            return Principal(kind="anonymous")
        if account is None:  # a name alone is no identity (e.g. a token from before binding)
            return None
        if account.kind == "robot":
            robot = s.connection().execute(ROBOT_ROW, {"id": account.id}).first()
            if (
                robot is None
                or self.robot_prefix.get() + robot.name != subject
                or not robots.is_active(robot)
                or not hmac.compare_digest(robot_state(state_key, robot), account.state)
            ):
                return None
            return Principal(kind="robot", robot_id=account.id, username=subject)
        row = s.connection().execute(USER_ROW, {"id": account.id}).first()
        if row is None or not self._same_user(row, verified, state_key):
            return None
        return Principal(kind="user", username=row.username)

    @staticmethod
    def _still_valid(
        s: Session, verified: tokens.VerifiedToken, prebuilt: bool = True
    ) -> list[ResourceScope]:
        names = {project_of(a.name) for a in verified.access if a.type == "repository"}
        names.discard(None)
        if len(names) == 1 and prebuilt:  # the usual token: one project, a prebuilt statement
            rows = s.connection().execute(PROJECT_CREATED, {"name": next(iter(names))}).all()
        else:
            query = select(Project.name, Project.creation_time, Project.id).where(
                Project.name.in_(names)
            )
            rows = s.connection().execute(query).all() if names else []
        created = {name: (when, ident) for name, when, ident in rows}
        kept = []
        for entry in verified.access:
            if entry.type == "repository":
                name = project_of(entry.name) or ""
                when, ident = created.get(name, (None, None))
                if (
                    when is None
                    or int(when.timestamp()) > verified.issued_at
                    or _another_project(verified, name, ident)
                ):
                    continue
            kept.append(entry)
        return kept


def _another_project(verified: tokens.VerifiedToken, name: str, project_id: int | None) -> bool:
    """Whether the token's access was granted in another project of that name (deleted
    and recreated since: creation times compare in whole seconds, ids never repeat)."""
    return verified.projects is not None and verified.projects.get(name) != project_id
