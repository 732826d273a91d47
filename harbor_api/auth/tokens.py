"""Distribution-style bearer tokens: scope strings, issuing and verifying RS256 JWTs.

Pure functions over a :class:`~harbor_api.auth.keys.ServiceKey`; who may have which scope is
decided in ``harbor_api.services.tokens``.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jwt

from harbor_api.auth.keys import ServiceKey

ISSUER = "harbor-token-issuer"
AUDIENCE = "harbor-registry"
ALGORITHM = "RS256"
LEEWAY_SECONDS = 30

_TYPE = re.compile(r"^[a-z0-9]+(?:\([a-z0-9]+\))?$")
_ACTION = re.compile(r"^(?:[a-z0-9]+|\*)$")
_NAME = re.compile(r"^[A-Za-z0-9._\-/:]+$")
MAX_SCOPE_LENGTH = 512
ACCOUNT_CLAIM = "harbor_account"  # private claim: {"kind", "id", "state"} of the subject
# private claim: {project name: id} of the projects the access was granted in, so a project
# deleted and recreated under the name (even within the second) is not covered
PROJECTS_CLAIM = "harbor_projects"
ACCOUNT_KINDS = ("user", "robot")


@dataclass(frozen=True)
class ResourceScope:
    type: str
    name: str
    actions: tuple[str, ...]

    def claim(self) -> dict[str, Any]:
        return {"type": self.type, "name": self.name, "actions": list(self.actions)}


def parse_scope(text: str) -> ResourceScope | None:
    """``type:name:actions`` split as the token spec says (type up to the first colon,
    actions after the last; the name may hold ``host:port/``). None when malformed."""
    if not text or len(text) > MAX_SCOPE_LENGTH:
        return None
    kind, sep, rest = text.partition(":")
    name, sep2, actions = rest.rpartition(":")
    if not (sep and sep2 and name and actions) or not _TYPE.match(kind):
        return None
    if not _NAME.match(name) or "//" in name or name.startswith("/") or name.endswith("/"):
        return None
    wanted: list[str] = []
    for action in actions.split(","):
        if not _ACTION.match(action):
            return None
        if action not in wanted:
            wanted.append(action)
    return ResourceScope(kind, name, tuple(wanted))


def parse_scopes(values: list[str] | str | None) -> list[ResourceScope]:
    """Every well-formed scope among the (repeatable, space-separated) ``scope`` values;
    requests for the same resource are merged."""
    if isinstance(values, str):
        values = [values]
    merged: dict[tuple[str, str], list[str]] = {}
    for value in values or []:
        for part in str(value).split():
            parsed = parse_scope(part)
            if parsed is None:
                continue
            actions = merged.setdefault((parsed.type, parsed.name), [])
            actions.extend(a for a in parsed.actions if a not in actions)
    return [ResourceScope(t, n, tuple(a)) for (t, n), a in merged.items()]


@dataclass(frozen=True)
class Account:
    """The account a token was issued to: its immutable id and a seal of its current
    credential state (see :mod:`harbor_api.auth.accounts`). A token naming an account is
    honoured only while that account still exists in that state."""

    kind: str  # "user" | "robot"
    id: int
    state: str

    def claim(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "state": self.state}


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_in: int
    issued_at: int


def issue(
    key: ServiceKey,
    subject: str,
    access: list[ResourceScope],
    expires_in: int,
    now: float | None = None,
    account: Account | None = None,
    projects: Mapping[str, int] | None = None,
) -> IssuedToken:
    issued_at = int(now if now is not None else time.time())
    claims = {
        "iss": ISSUER,
        "sub": subject,
        "aud": AUDIENCE,
        "exp": issued_at + expires_in,
        "nbf": issued_at,
        "iat": issued_at,
        "jti": uuid.uuid4().hex,
        "access": [scope.claim() for scope in access],
    }
    if account is not None:
        claims[ACCOUNT_CLAIM] = account.claim()
    if projects:
        claims[PROJECTS_CLAIM] = dict(projects)
    headers = {"kid": key.kid, "x5c": key.x5c, "typ": "JWT"}
    token = jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers=headers)
    return IssuedToken(token, expires_in, issued_at)


@dataclass(frozen=True)
class VerifiedToken:
    subject: str
    issued_at: int
    access: tuple[ResourceScope, ...]
    account: Account | None = None  # None: no binding (anonymous, or not ours to honour)
    projects: Mapping[str, int] | None = None  # None: a token from before the binding


def verify(
    key: ServiceKey, token: str, now: float | None = None, leeway: int = LEEWAY_SECONDS
) -> VerifiedToken | None:
    """The token's subject and access when signature, key id, algorithm, time window,
    audience and issuer all hold; otherwise None (never an exception)."""
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM or header.get("kid") != key.kid:
            return None
        claims = jwt.decode(
            token,
            key.public_key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=leeway,
            options={"require": ["exp", "nbf", "iat", "iss", "aud", "sub"], "verify_iat": False},
        )
        if now is not None:  # an explicit clock (tests); pyjwt checked the real one
            if not claims["nbf"] - leeway <= now < claims["exp"] + leeway:
                return None
        access = tuple(_access(claims.get("access")))
        if not isinstance(claims["sub"], str) or not isinstance(claims["iat"], int | float):
            return None
        return VerifiedToken(
            claims["sub"],
            int(claims["iat"]),
            access,
            _account(claims.get(ACCOUNT_CLAIM)),
            _projects(claims.get(PROJECTS_CLAIM)),
        )
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        return None


def _account(raw: object) -> Account | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ValueError("the account claim must be an object")
    kind, ident, state = raw.get("kind"), raw.get("id"), raw.get("state")
    if (
        kind not in ACCOUNT_KINDS
        or not isinstance(ident, int)
        or isinstance(ident, bool)
        or not isinstance(state, str)
    ):
        raise ValueError("malformed account claim")
    return Account(kind, ident, state)


def _projects(raw: object) -> dict[str, int] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
        for k, v in raw.items()
    ):
        raise ValueError("malformed projects claim")
    return raw


def _access(raw: object) -> list[ResourceScope]:
    if not isinstance(raw, list):
        raise ValueError("access must be a list")
    entries = []
    for item in raw:
        if not isinstance(item, dict):
            raise ValueError("access entries must be objects")
        kind, name, actions = item.get("type"), item.get("name"), item.get("actions")
        if not (
            isinstance(kind, str)
            and isinstance(name, str)
            and isinstance(actions, list)
            and all(isinstance(a, str) for a in actions)
        ):
            raise ValueError("malformed access entry")
        entries.append(ResourceScope(kind, name, tuple(actions)))
    return entries


def covers(
    access: Iterable[ResourceScope | tuple[str, str, Sequence[str]]] | None,
    kind: str,
    name: str,
    action: str,
) -> bool:
    """Whether ``access`` ((type, name, actions) entries) grants ``action`` on the resource;
    ``*`` in the granted actions means every action."""
    for entry in access or ():
        entry_type, entry_name, actions = (
            (entry.type, entry.name, entry.actions) if isinstance(entry, ResourceScope) else entry
        )
        if entry_type == kind and entry_name == name and (action in actions or "*" in actions):
            return True
    return False
