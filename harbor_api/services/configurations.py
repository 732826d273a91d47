"""System configuration: typed keys with defaults, stored as JSON in ``configurations``.

Every key of Harbor's configuration schema is accepted; secrets (``ldap_search_password``,
``oidc_client_secret``, ``uaa_client_secret``) are write-only: stored (encrypted with the
credential key, see :func:`harbor_api.db.config_store.protect_secrets`), never returned.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from harbor_api.auth import rbac
from harbor_api.db.config_store import (
    DEFAULTS,
    HARBOR_ONLY,
    SECRET_KEYS,
    effective,
    forget_cached,
    request_scope,
    store,
    write,
)
from harbor_api.db.models import User
from harbor_api.db.session import Database
from harbor_api.errors import BadRequestError
from harbor_api.services import audit
from harbor_api.services.context import RequestContext

__all__ = [
    "DEFAULTS",
    "HARBOR_ONLY",
    "SECRET_KEYS",
    "effective",
    "for_display",
    "forget_cached",
    "meaningful",
    "read_by",
    "request_scope",
    "store",
    "update",
    "update_by",
    "validate",
]


# --- the management API -------------------------------------------------------------------

CHOICES: dict[str, tuple[str, ...]] = {
    "auth_mode": ("db_auth", "ldap_auth"),
    "project_creation_restriction": ("adminonly", "everyone"),
}
RANGES: dict[str, tuple[int, int | None]] = {
    "token_expiration": (1, None),
    "robot_token_duration": (1, None),
    "ldap_scope": (0, 2),
    "ldap_group_search_scope": (0, 2),
    "ldap_timeout": (1, None),
    "audit_log_retention_hours": (0, None),
    "session_timeout": (1, None),
}
# Harbor's bound for durations typed in its portal (ten digits)
MAX_DURATION = 9_999_999_999
_DURATIONS = ("token_expiration", "robot_token_duration", "session_timeout")


def _auth_mode_editable(db: Database) -> bool:
    with db.read() as s:
        return s.scalar(select(User.id).where(User.username != "admin").limit(1)) is None


def for_display(db: Database) -> dict[str, dict[str, Any]]:
    """Harbor's ConfigurationsResponse: ``{key: {"value": v, "editable": bool}}``, every key
    but the secrets; ``auth_mode`` is editable only while no user but ``admin`` exists."""
    shown = {
        key: {"value": value, "editable": True}
        for key, value in effective(db).items()
        if key not in SECRET_KEYS
    }
    shown["auth_mode"]["editable"] = _auth_mode_editable(db)
    return shown


def meaningful(body: Any) -> dict[str, Any]:
    """The keys of a PUT body that change something, as Harbor reads it: a key outside the
    schema is dropped, and so is a null (Harbor's model leaves it unset)."""
    if not isinstance(body, dict):
        raise BadRequestError("the configurations must be a JSON object")
    return {key: value for key, value in body.items() if key in DEFAULTS and value is not None}


def validate(changes: dict[str, Any], current: dict[str, Any] | None = None) -> dict[str, Any]:
    """Check every value has the right type and range (keys already known, see
    :func:`meaningful`)."""
    for key, value in changes.items():
        expected = type(DEFAULTS[key])
        if type(value) is not expected:
            raise BadRequestError(f"configuration {key} must be a {expected.__name__}")
        if expected is int and not -(2**63) <= value < 2**63:  # the database's BIGINT
            raise BadRequestError(f"configuration {key} is out of range")
        if key in CHOICES and value not in CHOICES[key]:
            raise BadRequestError(f"configuration {key} must be one of {', '.join(CHOICES[key])}")
        if key in _DURATIONS and value > MAX_DURATION:
            raise BadRequestError(f"the {key} value is over the limit value: {MAX_DURATION}")
        if key in RANGES:
            low, high = RANGES[key]
            if value < low or (high is not None and value > high):
                if key in _DURATIONS:
                    raise BadRequestError(f"the {key} value must be positive")
                raise BadRequestError(f"configuration {key} is out of range")
        if key == "storage_per_project" and value <= 0 and value != -1:
            raise BadRequestError("storage_per_project must be -1 (unlimited) or greater than zero")
        if key == "ldap_url" and value and not value.lower().startswith(("ldap://", "ldaps://")):
            raise BadRequestError("ldap_url must start with ldap:// or ldaps://")
        if key == "robot_name_prefix" and not value:
            raise BadRequestError("robot_name_prefix must not be empty")
        if key == "oidc_extra_redirect_parms" and not _string_map(value):
            raise BadRequestError("oidc_extra_redirect_parms must be a JSON object of strings")
    merged = {**(current or DEFAULTS), **changes}
    if (
        {"skip_audit_log_database", "audit_log_forward_endpoint"} & set(changes)
        and merged["skip_audit_log_database"]
        and not merged["audit_log_forward_endpoint"]
    ):
        raise BadRequestError(
            "audit log forward endpoint should be configured before enable "
            "skip audit log in database"
        )
    return changes


def _string_map(value: str) -> bool:
    try:
        parsed = json.loads(value) if value else {}
    except ValueError:
        return False
    return isinstance(parsed, dict) and all(isinstance(v, str) for v in parsed.values())


def update(db: Database, principal, body: dict[str, Any]) -> None:
    """Validate and store the meaningful keys of ``body`` with an audit record, in one
    transaction.

    Switching ``auth_mode`` is refused once users other than ``admin`` exist (as Harbor does).
    """
    changes = meaningful(body)
    current = effective(db)
    validate(changes, current)
    with db.transaction() as s:
        if "auth_mode" in changes and changes["auth_mode"] != current["auth_mode"]:
            others = s.scalar(select(User.id).where(User.username != "admin").limit(1))
            if others is not None:
                raise BadRequestError(
                    "the auth mode cannot be modified as new users have been inserted into database"
                )
        write(s, changes)
        if changes:
            audit.record(s, principal, "update", "configuration", ",".join(sorted(changes)))
    forget_cached(db)


def read_by(ctx: RequestContext) -> dict[str, dict[str, Any]]:
    """``GET /configurations``: :func:`for_display`, for system administrators."""
    rbac.require_system(ctx.principal, "configuration", "read")
    return for_display(ctx.db)


def update_by(ctx: RequestContext, body: dict[str, Any]) -> None:
    """``PUT /configurations``: :func:`update`, for system administrators."""
    rbac.require_system(ctx.principal, "configuration", "update")
    update(ctx.db, ctx.principal, body)
