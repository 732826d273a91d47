"""Apply parsed Harbor ``q`` terms and ``sort`` keys to SQLAlchemy statements."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import and_, or_

from harbor_api.errors import BadRequestError
from harbor_api.services.query import Term, parse_q, parse_sort


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


INT32_MAX = 2**31 - 1


def as_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise BadRequestError(f"{value!r} is not an integer") from None
    if not -INT32_MAX <= number <= INT32_MAX:
        raise BadRequestError(f"{value!r} is out of range")
    return number


def as_time(value: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequestError(f"{value!r} is not a time like 2020-04-09 02:36:00") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _like_pattern(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def condition(column, term: Term, convert: Callable[[str], Any] = str):
    """The SQL condition for one ``q`` term on ``column``."""
    if term.kind == "fuzzy":
        return column.ilike(_like_pattern(_unquote(str(term.value))), escape="\\")
    if term.kind == "exact":
        return column == convert(_unquote(str(term.value)))
    if term.kind == "range":
        low, high = term.value  # type: ignore[misc]
        parts = []
        if low is not None:
            parts.append(column >= convert(_unquote(low)))
        if high is not None:
            parts.append(column <= convert(_unquote(high)))
        return and_(*parts) if parts else None
    values = [convert(_unquote(v)) for v in term.value]  # type: ignore[union-attr]
    if not values:
        return None
    if term.kind == "or":
        return or_(*[column == v for v in values])
    return and_(*[column == v for v in values])


def filter_by_q(stmt, raw_q: str | None,
                columns: dict[str, tuple[Any, Callable[[str], Any]]]):
    """``columns``: q key → (column, value converter)."""
    for key, term in parse_q(raw_q, set(columns)).items():
        column, convert = columns[key]
        cond = condition(column, term, convert)
        if cond is not None:
            stmt = stmt.where(cond)
    return stmt


def order_by(stmt, raw_sort: str | None, columns: dict[str, Any], default: list):
    keys = parse_sort(raw_sort, set(columns))
    if not keys:
        return stmt.order_by(*default)
    clauses = [columns[k].desc() if desc else columns[k].asc() for k, desc in keys]
    return stmt.order_by(*clauses, *default)
