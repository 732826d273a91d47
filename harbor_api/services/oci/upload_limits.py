"""Bounds on what one account may hold open in upload sessions.

An authenticated pusher could otherwise start sessions (or grow one) without end and fill
the disk with uploads it abandons. Each account (a user or a robot; system administrators
excepted: they run the registry) may hold ``max_open_uploads_per_user`` open sessions and
``max_upload_bytes_per_user`` bytes in them together; past either the request is refused
with ``TOOMANYREQUESTS`` (429) saying which limit applies. Finished, cancelled and swept
sessions no longer count. A monolithic push (``POST ?digest=``, or a PUT carrying the whole
blob) opens no session and is not counted: it leaves nothing behind when it fails.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from harbor_api.auth.principal import Principal
from harbor_api.errors import HarborError, TooManyRequestsError
from harbor_api.registry.storage.base import Writer
from harbor_api.services.oci import upload_records
from harbor_api.settings import Settings


def owner_of(principal: Principal) -> str | None:
    """The account a session counts against; None when no limit applies to the caller."""
    if not principal.authenticated or principal.sysadmin:
        return None
    return principal.username or f"{principal.kind}:{principal.user_id or principal.robot_id}"


def _hint(settings: Settings) -> str:
    hours = settings.upload_purge_age_seconds / 3600
    return f"finish or cancel (DELETE) open uploads; abandoned ones are removed after {hours:g} h"


def check_can_open(session: Session, settings: Settings, owner: str | None) -> None:
    """Refuse a new session once the owner holds the limit."""
    limit = settings.max_open_uploads_per_user
    if owner is None or not limit:
        return
    count, _ = upload_records.owner_totals(session, owner)
    if count >= limit:
        raise TooManyRequestsError(
            f"too many open upload sessions: at most {limit} per account; {_hint(settings)}"
        )


def byte_allowance(session: Session, settings: Settings, owner: str | None) -> int | None:
    """How many more bytes the owner's sessions may take (None: no limit)."""
    limit: int = settings.max_upload_bytes_per_user
    if owner is None or not limit:
        return None
    _, total = upload_records.owner_totals(session, owner)
    return max(limit - total, 0)


def bytes_refused(settings: Settings) -> TooManyRequestsError:
    return TooManyRequestsError(
        f"open upload sessions may hold at most {settings.max_upload_bytes_per_user} bytes "
        f"per account; {_hint(settings)}"
    )


class CappedWriter(Writer):
    """A writer that refuses (429) the byte that would pass ``allowance``; the caller then
    cancels it as for any failed write, so the session stays at its offset."""

    def __init__(self, inner: Writer, allowance: int, refusal: HarborError) -> None:
        self._inner = inner
        self._left = allowance
        self._refusal = refusal

    @property
    def size(self) -> int:
        return self._inner.size

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if len(data) > self._left:
            raise self._refusal
        self._left -= len(data)
        self._inner.write(data)

    def commit(self) -> None:
        self._inner.commit()

    def cancel(self) -> None:
        self._inner.cancel()
