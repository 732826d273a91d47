"""One audit-log row, added to the caller's session (the lowest layer of auditing).

:mod:`harbor_api.services.audit` records a principal's operations through it; ``auth``
records refused logins and denials through it directly (auth sits below the services).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from harbor_api.db.models import AuditLog


def add_record(session: Session, username: str, operation: str, resource_type: str,
               resource: str, project_id: int | None = None) -> None:
    """operation: create|update|delete|pull|push|denied|login ...; never pass secrets."""
    session.add(AuditLog(project_id=project_id, operation=operation,
                         resource_type=resource_type, resource=resource[:1024],
                         username=username))
