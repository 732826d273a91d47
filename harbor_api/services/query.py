"""Harbor's ``q`` and ``sort`` query syntax, and its one translation to SQL.

``q`` is a comma-separated list of ``key=value`` terms where value is exact (``v``), fuzzy
(``~v``), a range (``[a~b]``, either end may be empty), any-of (``{a b}``) or all-of
(``(a b)``). ``sort`` is a comma-separated list of keys, ``-key`` for descending.

Every list endpoint goes through this module, so a term means the same on every endpoint:
a value in quotes loses them, fuzzy is a case-insensitive substring match with ``%``, ``_``
and ``\\`` taken literally, integers are int32 (the columns' type), and times are
``YYYY-MM-DD HH:MM:SS``, ISO 8601 (with or without zone; UTC when none) or a Unix timestamp.
Which operators a key takes follows from its value kind (:data:`TEXT`, :data:`INT`,
:data:`TIME`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import unquote

from sqlalchemy import and_, true

from harbor_api.errors import BadRequestError

INT32_MAX = 2**31 - 1

# --- the grammar ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    key: str
    kind: str  # "exact" | "fuzzy" | "range" | "or" | "and"
    value: str | tuple[str, ...] | tuple[str | None, str | None]


def parse_q(raw: str | None, allowed: set[str] | None = None) -> dict[str, Term]:
    terms: dict[str, Term] = {}
    if not raw:
        return terms
    for part in _split_terms(unquote(raw)):
        if "=" not in part:
            raise BadRequestError(f"invalid query term {part!r}: expected key=value")
        key, value = part.split("=", 1)
        key = key.strip()
        if not key:
            raise BadRequestError(f"invalid query term {part!r}: empty key")
        if allowed is not None and key not in allowed:
            raise BadRequestError(
                f"unsupported query key {key!r}; supported: {', '.join(sorted(allowed))}"
            )
        terms[key] = _term(key, value.strip())
    return terms


def _split_terms(raw: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for ch in raw:
        if ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p for p in (p.strip() for p in parts) if p]


def _term(key: str, value: str) -> Term:
    if value.startswith("~"):
        return Term(key, "fuzzy", value[1:])
    if value.startswith("[") and value.endswith("]"):
        low, sep, high = value[1:-1].partition("~")
        if not sep:
            raise BadRequestError(f"invalid range for {key!r}: expected [min~max]")
        return Term(key, "range", (low.strip() or None, high.strip() or None))
    if value.startswith("{") and value.endswith("}"):
        return Term(key, "or", tuple(v for v in value[1:-1].split() if v))
    if value.startswith("(") and value.endswith(")"):
        return Term(key, "and", tuple(v for v in value[1:-1].split() if v))
    return Term(key, "exact", value)


def parse_sort(raw: str | None, allowed: set[str]) -> list[tuple[str, bool]]:
    """[(key, descending)], rejecting keys outside ``allowed``."""
    result = []
    for item in (raw or "").split(","):
        item = item.strip()
        if not item:
            continue
        desc = item.startswith("-")
        key = item.lstrip("-")
        if key not in allowed:
            raise BadRequestError(
                f"unsupported sort key {key!r}; supported: {', '.join(sorted(allowed))}"
            )
        result.append((key, desc))
    return result


# --- values --------------------------------------------------------------------------------


def as_int(value: str) -> int:
    """An int32, as the id columns are (a larger one is the client's mistake, on both
    backends)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise BadRequestError(f"{value!r} is not an integer") from None
    if not -INT32_MAX <= number <= INT32_MAX:
        raise BadRequestError(f"{value!r} is out of range")
    return number


def as_time(value: str) -> dt.datetime:
    """``2024-01-02 03:04:05``, ISO 8601 with or without zone (UTC when none), or a Unix
    timestamp."""
    text = value.strip()
    try:
        if text.replace(".", "", 1).isdigit():
            return dt.datetime.fromtimestamp(float(text), dt.UTC)
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise BadRequestError(f"invalid time {value!r}: expected YYYY-MM-DD HH:MM:SS") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def like_pattern(value: str) -> str:
    """``%value%`` with LIKE's wildcards and the escape character taken literally."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contains(column, value: str):
    """Case-insensitive substring match, the same on SQLite and PostgreSQL."""
    return column.ilike(like_pattern(value), escape="\\")


# --- the SQL translation -------------------------------------------------------------------


@dataclass(frozen=True)
class ValueKind:
    """What a key's values are, and so which operators it takes."""

    name: str
    convert: Callable[[str], Any]
    operators: tuple[str, ...]


TEXT = ValueKind("text", str, ("exact", "fuzzy", "range", "or", "and"))
INT = ValueKind("integer", as_int, ("exact", "range", "or"))
TIME = ValueKind("time", as_time, ("exact", "range"))

_OPERATOR_NAMES = {
    "exact": "exact",
    "fuzzy": "fuzzy (~v)",
    "range": "range ([a~b])",
    "or": "any-of ({a b})",
    "and": "all-of ((a b))",
}


def condition(column, term: Term, kind: ValueKind = TEXT):
    """The SQL condition for one ``q`` term on ``column`` (``true()`` when the term filters
    nothing, e.g. ``[~]`` or ``{}``)."""
    if term.kind not in kind.operators:
        allowed = ", ".join(_OPERATOR_NAMES[op] for op in kind.operators)
        raise BadRequestError(f"{term.key} takes {allowed} queries only")
    if term.kind == "fuzzy":
        return contains(column, _unquote(str(term.value)))
    if term.kind == "exact":
        return column == kind.convert(_unquote(str(term.value)))
    if term.kind == "range":
        low, high = cast(tuple[str | None, str | None], term.value)
        parts = []
        if low is not None:
            parts.append(column >= kind.convert(_unquote(low)))
        if high is not None:
            parts.append(column <= kind.convert(_unquote(high)))
        return and_(*parts) if parts else true()
    values = [kind.convert(_unquote(v)) for v in term.value if v is not None]
    if not values:
        return true()
    if term.kind == "or":
        return column.in_(values)
    return and_(*(column == v for v in values))


def conditions(terms: dict[str, Term], fields: dict[str, tuple[Any, ValueKind]]) -> list:
    """The conditions of the ``terms`` whose keys are in ``fields`` (key → column, kind)."""
    return [
        condition(fields[key][0], term, fields[key][1])
        for key, term in terms.items()
        if key in fields
    ]


def filter_by_q(stmt, raw_q: str | None, fields: dict[str, tuple[Any, ValueKind]]):
    """``stmt`` filtered by ``raw_q``, whose keys must all be in ``fields``."""
    return stmt.where(*conditions(parse_q(raw_q, set(fields)), fields))


def order_by(
    raw_sort: str | None, columns: dict[str, Any], tie_breakers: Iterable, unsorted: Iterable = ()
) -> list:
    """ORDER BY clauses for ``raw_sort`` (keys of ``columns``), ``unsorted`` when it names
    none, always ending on the ``tie_breakers`` so pages are stable."""
    keys = parse_sort(raw_sort, set(columns))
    clauses = [columns[k].desc() if desc else columns[k].asc() for k, desc in keys]
    return [*(clauses or unsorted), *tie_breakers]


def page_and_total(session, query, count_query, offset: int, limit: int) -> tuple[list, int]:
    """One page of ``query`` and the total, skipping the COUNT when the page itself shows
    the total: one extra row is fetched, and a page that is not full is the last one."""
    rows = list(session.scalars(query.offset(offset).limit(limit + 1)))
    if len(rows) <= limit and (rows or offset == 0):
        return rows, offset + len(rows)
    return rows[:limit], session.scalar(count_query) or 0
