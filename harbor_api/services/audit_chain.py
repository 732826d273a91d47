"""Verifying the audit log's hash chain (``GET /audit-logs/verify``, beyond Harbor).

Rows are walked in id order in pages (keyset, so memory stays flat). A row breaks the chain
when its stored hash is not the hash of its fields (it was edited), or when it does not link
to the row before it and no purge checkpoint explains the gap (a row before it was deleted).
At the end the newest hash must be the chain head's (the newest rows were not deleted).
The first broken link is named: its id and why.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from harbor_api.auth import rbac
from harbor_api.db.audit_records import FIELDS, GENESIS, HEAD_ID, row_hash
from harbor_api.db.models import AuditChainCheckpoint, AuditChainHead, AuditLog
from harbor_api.services.context import RequestContext

PAGE = 2000


def verify(ctx: RequestContext) -> dict[str, Any]:
    rbac.require_system(ctx.principal, "audit-log", "list")
    with ctx.db.read() as s:
        return verify_chain(s)


def _gaps(s: Session) -> dict[str, set[int | None]]:
    gaps: dict[str, set[int | None]] = {}
    for purged, successor in s.execute(
        select(AuditChainCheckpoint.purged_hash, AuditChainCheckpoint.successor_id)
    ):
        gaps.setdefault(purged, set()).add(successor)
    return gaps


def _links(gaps: dict[str, set[int | None]], prev: str, expected: str, row_id: int) -> bool:
    if prev == expected:
        return True
    allowed = gaps.get(prev, set())
    return row_id in allowed or None in allowed  # a purged gap (None: purged at the tail)


def verify_chain(s: Session) -> dict[str, Any]:
    gaps = _gaps(s)
    columns = [
        AuditLog.id,
        AuditLog.prev_hash,
        AuditLog.hash,
        *(getattr(AuditLog, f) for f in FIELDS),
    ]
    expected, checked, last_id = GENESIS, 0, 0
    while True:
        page = (
            s.execute(
                select(*columns).where(AuditLog.id > last_id).order_by(AuditLog.id).limit(PAGE)
            )
            .mappings()
            .all()
        )
        for row in page:
            last_id = row["id"]
            prev = row["prev_hash"] or ""
            if not _links(gaps, prev, expected, row["id"]):
                return _broken(
                    checked,
                    row["id"],
                    "the row before it is missing (deleted) or this row's link was changed",
                )
            if row["hash"] != row_hash(prev, dict(row)):
                return _broken(
                    checked, row["id"], "the row was edited: its hash does not match its fields"
                )
            expected = row["hash"]
            checked += 1
        if len(page) < PAGE:
            break
    head = s.scalar(select(AuditChainHead.last_hash).where(AuditChainHead.id == HEAD_ID))
    if head is not None and not _links(gaps, head, expected, 0):
        return _broken(
            checked,
            None,
            "the newest rows are missing (deleted): the chain head does not match the last row",
        )
    return {
        "valid": True,
        "checked": checked,
        "head_hash": expected,
        "first_broken_id": None,
        "reason": "",
    }


def _broken(checked: int, row_id: int | None, reason: str) -> dict[str, Any]:
    return {
        "valid": False,
        "checked": checked,
        "head_hash": None,
        "first_broken_id": row_id,
        "reason": reason,
    }
