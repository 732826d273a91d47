"""Harbor's ``q`` and ``sort`` query syntax.

``q`` is a comma-separated list of ``key=value`` terms where value is exact (``v``), fuzzy
(``~v``), a range (``[a~b]``, either end may be empty), any-of (``{a b}``) or all-of
(``(a b)``). ``sort`` is a comma-separated list of keys, ``-key`` for descending.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from harbor_api.errors import BadRequestError


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
            raise BadRequestError(f"unsupported query key {key!r}; "
                                  f"supported: {', '.join(sorted(allowed))}")
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
            raise BadRequestError(f"unsupported sort key {key!r}; "
                                  f"supported: {', '.join(sorted(allowed))}")
        result.append((key, desc))
    return result
