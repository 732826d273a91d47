"""Faults of the machine, not of the request, told apart from bugs.

A full disk or a database that stays locked or unreachable surfaces deep below the edges as
``OSError`` or a SQLAlchemy error. :func:`translate` turns the ones that are conditions of
the environment into the :class:`~harbor_api.errors.HarborError` a client can act on
(507 storage full; 503 with ``Retry-After``), so both edges render them like any other
error; everything else stays an unexpected error (a generic 500, logged).
"""

from __future__ import annotations

import errno

from sqlalchemy import exc as sa_exc

from harbor_api.errors import DatabaseUnavailableError, HarborError, StorageFullError

_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}
# SQLite's words for a full disk, and for a lock held past the busy timeout
_SQLITE_FULL = ("database or disk is full", "no space left on device")
_SQLITE_BUSY = (
    "database is locked",
    "database table is locked",
    "database schema is locked",
    "unable to open database file",
)
_PG_DISK_FULL = "53100"  # SQLSTATE disk_full


def translate(error: BaseException) -> HarborError | None:
    """The client-facing error for an environmental fault; None for anything else."""
    if isinstance(error, HarborError):
        return error
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < 5:  # a storage error may wrap the OSError
        if isinstance(current, OSError) and current.errno in _NO_SPACE:
            return StorageFullError()
        current = current.__cause__ or current.__context__
        seen += 1
    if isinstance(error, sa_exc.TimeoutError):  # every pooled connection stayed busy
        return DatabaseUnavailableError("no database connection became free in time; retry later")
    if isinstance(error, sa_exc.DisconnectionError):
        return DatabaseUnavailableError()
    if isinstance(error, sa_exc.DBAPIError):
        return _database_fault(error)
    return None


def _database_fault(error: sa_exc.DBAPIError) -> HarborError | None:
    original = error.orig
    text = str(original).lower()
    if getattr(original, "sqlstate", None) == _PG_DISK_FULL or any(
        words in text for words in _SQLITE_FULL
    ):
        return StorageFullError("the database's disk is full; free space or retry later")
    if error.connection_invalidated:
        return DatabaseUnavailableError()
    if not isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
        return None
    module = type(original).__module__ if original is not None else ""
    if module.startswith("sqlite3"):
        return DatabaseUnavailableError() if any(w in text for w in _SQLITE_BUSY) else None
    # PostgreSQL: an operational error is the server gone, restarting, refusing connections
    # or cancelling a statement (lock timeout): all pass, none is the request's fault
    return DatabaseUnavailableError()
