"""Record operations in the audit log inside the caller's transaction.

Call :func:`record` with the same session that makes the change, so the change and its
record commit (or roll back) together.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from harbor_api.auth.principal import Principal
from harbor_api.db.audit_records import add_record


def actor(principal: Principal) -> str:
    return principal.username or "anonymous"


def record(
    session: Session,
    principal: Principal,
    operation: str,
    resource_type: str,
    resource: str,
    project_id: int | None = None,
) -> None:
    """operation: create|update|delete|pull|push|denied|login ...; never pass secrets."""
    add_record(session, actor(principal), operation, resource_type, resource, project_id)
