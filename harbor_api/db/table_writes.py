"""Per-table write counters of this process, for in-process caches of database answers.

A cache of something read from tables T (e.g. a Bearer token's verdict, which depends on
``users``, ``robots``, ``projects`` and ``configurations``) remembers :func:`generation` of T
taken *before* its read and is valid only while that number is unchanged. The number moves
whenever this process writes one of T: once when the statement runs (later readers do not
reuse older answers) and once more when the connection goes back to the pool, i.e. after the
commit or rollback (an answer read before the commit became visible is dropped too).

Writes by other processes (another worker, another node) are not seen here: a cache using
these counters must also bound how long it keeps an answer.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

from sqlalchemy import event
from sqlalchemy.engine import Engine

# the table an INSERT / UPDATE / DELETE statement writes (as SQLAlchemy compiles them)
_WRITTEN_TABLE = re.compile(
    r'\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE
)
_TOUCHED = "harbor.written_tables"

_counts: dict[str, int] = {}
_lock = threading.Lock()


def generation(tables: Iterable[str]) -> int:
    """A number that changes whenever this process writes any of ``tables``."""
    return sum(_counts.get(name, 0) for name in tables)


def _bump(tables: Iterable[str]) -> None:
    with _lock:
        for name in tables:
            _counts[name] = _counts.get(name, 0) + 1


def watch(engine: Engine) -> None:
    """Count ``engine``'s writes (once per engine, at creation)."""

    @event.listens_for(engine, "after_cursor_execute")
    def _written(conn, _cursor, statement: str, _params, _context, _many) -> None:
        if statement[:6].upper() == "SELECT":
            return
        match = _WRITTEN_TABLE.match(statement)
        if match is None:
            return
        name = match.group(1).lower()
        _bump((name,))
        conn.info.setdefault(_TOUCHED, set()).add(name)

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record) -> None:
        touched = record.info.pop(_TOUCHED, None) if record is not None else None
        if touched:
            _bump(touched)
