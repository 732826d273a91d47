"""The formats of values in API responses that several services render."""

from __future__ import annotations

import datetime as dt


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
