"""Browser sessions: ``/c/login`` issues a random token (stored as its SHA-256) and a CSRF
token; ``/c/log_out`` ends it."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete

from harbor_api.db.base import utcnow
from harbor_api.db.models import LoginSession
from harbor_api.errors import UnauthorizedError
from harbor_api.services import audit
from harbor_api.services.context import RequestContext

# The cookie carrying the session token: set by the login handler, read by the root app.
SESSION_COOKIE = "sid"


@dataclass(frozen=True)
class NewSession:
    token: str
    csrf_token: str
    max_age: int


def session_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login(ctx: RequestContext, principal_name: str, password: str) -> NewSession:
    found = ctx.app.authenticator.basic(principal_name or "", password or "")
    if found is None or found.kind != "user" or found.user_id is None:
        raise UnauthorizedError("invalid username or password")
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    max_age = ctx.settings.session_max_age_seconds
    now = utcnow()
    with ctx.db.transaction() as s:
        s.execute(delete(LoginSession).where(LoginSession.expires_at < now))
        s.add(
            LoginSession(
                id=session_id(token),
                user_id=found.user_id,
                csrf_token=csrf,
                creation_time=now,
                expires_at=now + dt.timedelta(seconds=max_age),
            )
        )
        audit.record(s, found, "login", "user", found.username)
    return NewSession(token=token, csrf_token=csrf, max_age=max_age)


def logout(ctx: RequestContext) -> None:
    sid = ctx.principal.session_id
    if not sid:
        return
    with ctx.db.transaction() as s:
        s.execute(delete(LoginSession).where(LoginSession.id == sid))
