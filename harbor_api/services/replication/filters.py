"""Harbor's replication filters, checked on the way in and matched against artifacts.

A filter is ``{"type", "value", "decoration"}``: ``name`` and ``tag`` take a doublestar
glob (``*`` within one path component, ``**`` across them, ``?``, ``{a,b}``, ``[..]``),
``label`` a list of label names, ``resource`` ``image`` or ``artifact``. ``decoration``
(``matches``, the default, or ``excludes``) applies to ``tag`` and ``label``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from harbor_api.errors import BadRequestError

FILTER_TYPES = ("name", "tag", "label", "resource")
DECORATIONS = ("matches", "excludes")
RESOURCES = ("image", "artifact")


@dataclass(frozen=True)
class Filter:
    type: str
    value: Any
    decoration: str = ""

    def render(self) -> dict[str, Any]:
        item: dict[str, Any] = {"type": self.type, "value": self.value}
        if self.decoration:
            item["decoration"] = self.decoration
        return item


def glob_regex(pattern: str) -> re.Pattern[str]:
    """The doublestar glob as a regular expression; a malformed glob is a 400."""
    out, i, depth = [], 0, 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                raise BadRequestError(f"invalid pattern {pattern!r}: unclosed '['")
            body = pattern[i + 1 : end]
            negate, body = body[0] in "!^", body[1:] if body[0] in "!^" else body
            body = body.replace("\\", "\\\\").replace("^", "\\^").replace("[", "\\[")
            out.append("[" + ("^" if negate else "") + body + "]")
            i = end + 1
            continue
        elif ch == "{":
            depth += 1
            out.append("(?:")
        elif ch == "}" and depth:
            depth -= 1
            out.append(")")
        elif ch == "," and depth:
            out.append("|")
        else:
            out.append(re.escape(ch))
        i += 1
    if depth:
        raise BadRequestError(f"invalid pattern {pattern!r}: unclosed '{{'")
    return re.compile("".join(out) + r"\Z")


def glob_match(pattern: str, value: str) -> bool:
    return glob_regex(pattern).match(value) is not None


def parse_filters(raw: Any) -> list[Filter]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise BadRequestError("filters must be a list")
    seen: set[str] = set()
    result = []
    for item in raw:
        flt = _parse_one(item)
        if flt.type in seen:
            raise BadRequestError(f"only one {flt.type} filter is allowed")
        seen.add(flt.type)
        result.append(flt)
    return result


def _parse_one(item: Any) -> Filter:
    if not isinstance(item, dict) or item.get("type") not in FILTER_TYPES:
        kind = item.get("type") if isinstance(item, dict) else item
        raise BadRequestError(
            f"unsupported filter type {kind!r}; supported: {', '.join(FILTER_TYPES)}"
        )
    kind, value, decoration = item["type"], item.get("value"), item.get("decoration") or ""
    if decoration and (kind not in ("tag", "label") or decoration not in DECORATIONS):
        raise BadRequestError(
            f"invalid decoration {decoration!r} for the {kind} filter; "
            f"tag and label filters take {' or '.join(DECORATIONS)}"
        )
    if kind in ("name", "tag"):
        if not isinstance(value, str):
            raise BadRequestError(f"the value of the {kind} filter must be a string")
        glob_regex(value)
    elif kind == "label":
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise BadRequestError("the value of the label filter must be a list of names")
    elif value not in RESOURCES:
        raise BadRequestError(f"invalid resource {value!r}; supported: {', '.join(RESOURCES)}")
    return Filter(kind, value, decoration if kind in ("tag", "label") else "")
