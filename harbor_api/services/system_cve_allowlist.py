"""The system CVE allowlist (``/system/CVEAllowlist``): Harbor's allowlist of project 0,
stored in the projects' table as the row whose ``project_id`` is NULL. Stored and returned
(scanning will apply it later); any signed-in user reads it, system admins change it."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from harbor_api.auth import rbac
from harbor_api.db.base import utcnow
from harbor_api.db.models import CVEAllowlist
from harbor_api.errors import BadRequestError, UnauthorizedError
from harbor_api.services.context import RequestContext
from harbor_api.services.projects import normalize_allowlist

SYSTEM_PROJECT_ID = 0  # what Harbor shows as the system allowlist's project
MAX_EXPIRES_AT = 2**53  # fits every backend's BIGINT and a JSON number


def _rows(s: Session) -> list[CVEAllowlist]:
    return list(
        s.scalars(
            select(CVEAllowlist).where(CVEAllowlist.project_id.is_(None)).order_by(CVEAllowlist.id)
        )
    )


def get_allowlist(ctx: RequestContext) -> dict[str, Any]:
    if not ctx.principal.authenticated:
        raise UnauthorizedError("unauthorized")
    with ctx.db.read() as s:
        rows = _rows(s)
        if not rows:
            return {"project_id": SYSTEM_PROJECT_ID, "items": []}
        row = rows[0]
        body: dict[str, Any] = {
            "id": row.id,
            "project_id": SYSTEM_PROJECT_ID,
            "items": json.loads(row.items or "[]"),
            "creation_time": row.creation_time,
            "update_time": row.update_time,
        }
        if row.expires_at is not None:
            body["expires_at"] = row.expires_at
        return body


def put_allowlist(ctx: RequestContext, body: dict[str, Any]) -> None:
    rbac.require_system(ctx.principal, "system-cve-allowlist", "update")
    if body.get("project_id") not in (None, SYSTEM_PROJECT_ID):
        raise BadRequestError("the system CVE allowlist belongs to project 0")
    expires = body.get("expires_at")
    if isinstance(expires, int) and expires > MAX_EXPIRES_AT:
        raise BadRequestError(f"expires_at must be Unix seconds up to {MAX_EXPIRES_AT}")
    normalized = normalize_allowlist(body)
    assert normalized is not None  # body is a dict
    expires, items = normalized
    with ctx.db.transaction() as s:
        rows = _rows(s)
        if not rows:
            s.add(CVEAllowlist(project_id=None, expires_at=expires, items=json.dumps(items)))
            return
        for extra in rows[1:]:  # two first PUTs racing may have stored two rows
            s.delete(extra)
        rows[0].expires_at, rows[0].items, rows[0].update_time = (
            expires,
            json.dumps(items),
            utcnow(),
        )
