"""Audit refused attempts in their own short transaction.

A refusal is followed by an error that rolls the caller's transaction back, so the record is
written on a separate connection; callers check access before writing anything, so this never
waits on their locks. Never pass secrets.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from harbor_api.auth.principal import Principal
from harbor_api.db.audit_records import add_record

log = logging.getLogger(__name__)


def record_denied(
    session: Session,
    principal: Principal,
    resource_type: str,
    resource: str,
    project_id: int | None = None,
) -> None:
    try:
        with Session(session.get_bind()) as own, own.begin():
            add_record(
                own,
                principal.username or "anonymous",
                "denied",
                resource_type,
                resource,
                project_id,
            )
    except Exception:  # auditing must not turn a refusal into a 500
        log.warning("could not audit a refused attempt", exc_info=True)
