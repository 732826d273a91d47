"""Turn parsed ``q`` terms (:mod:`harbor_api.services.query`) into SQL conditions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import and_, or_

from harbor_api.errors import BadRequestError
from harbor_api.services.query import Term


def text_condition(column, term: Term):
    """exact, fuzzy (substring, case-insensitive), any-of and all-of on a string column."""
    if term.kind == "exact":
        return column == term.value
    if term.kind == "fuzzy":
        return column.ilike(f"%{_escape_like(str(term.value))}%", escape="\\")
    if term.kind == "or":
        return column.in_(list(term.value))
    if term.kind == "and":
        return and_(*(column == v for v in term.value))
    raise BadRequestError(f"{term.key} does not support range queries")


def int_condition(column, term: Term):
    conv = _converter(term.key, int)
    if term.kind == "exact":
        return column == conv(term.value)
    if term.kind == "or":
        return column.in_([conv(v) for v in term.value])
    if term.kind == "range":
        return _range(column, term, conv)
    raise BadRequestError(f"{term.key} supports exact, list and range queries only")


def time_condition(column, term: Term):
    if term.kind == "range":
        return _range(column, term, parse_time)
    if term.kind == "exact":
        return column == parse_time(str(term.value))
    raise BadRequestError(f"{term.key} supports range queries only: [start~end]")


def parse_time(value: str) -> dt.datetime:
    """``2024-01-02 03:04:05``, ISO 8601 with or without zone, or a Unix timestamp."""
    text = value.strip()
    try:
        if text.replace(".", "", 1).isdigit():
            return dt.datetime.fromtimestamp(float(text), dt.UTC)
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequestError(f"invalid time {value!r}: expected YYYY-MM-DD HH:MM:SS") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _range(column, term: Term, conv: Callable[[str], Any]):
    low, high = term.value  # type: ignore[misc]
    parts = []
    if low is not None:
        parts.append(column >= conv(low))
    if high is not None:
        parts.append(column <= conv(high))
    return and_(*parts) if parts else or_(True)


def _converter(key: str, kind: type) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        try:
            return kind(value)
        except (TypeError, ValueError):
            raise BadRequestError(f"invalid value {value!r} for {key}") from None
    return convert


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def order_by(sort: list[tuple[str, bool]], columns: dict[str, Any], default: list) -> list:
    """ORDER BY clauses for parsed ``sort`` keys, always ending on a unique tie-breaker."""
    clauses = [columns[k].desc() if desc else columns[k].asc() for k, desc in sort]
    return clauses + default


def iso(value: dt.datetime | None) -> str | None:
    """The one timestamp format of API responses, Harbor's (Go's ``strfmt.DateTime``): RFC 3339
    in UTC with milliseconds and ``Z``, e.g. ``2024-01-02T03:04:05.123Z``; naive values are
    UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    value = value.astimezone(dt.UTC)
    return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}Z"


def without_empty(item: dict, *keys: str) -> dict:
    """``item`` less the optional strings among ``keys`` that are empty (Harbor omits them)."""
    for key in keys:
        if item.get(key) == "":
            del item[key]
    return item


def page_and_total(session, query, count_query, offset: int, limit: int) -> tuple[list, int]:
    """One page of ``query`` and the total, skipping the COUNT when the page itself shows
    the total: one extra row is fetched, and a page that is not full is the last one."""
    rows = list(session.scalars(query.offset(offset).limit(limit + 1)))
    if len(rows) <= limit and (rows or offset == 0):
        return rows, offset + len(rows)
    return rows[:limit], session.scalar(count_query) or 0
