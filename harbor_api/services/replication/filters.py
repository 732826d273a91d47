"""Harbor's replication filters, checked on the way in and matched against artifacts.

A filter is ``{"type", "value", "decoration"}``: ``name`` and ``tag`` take a doublestar
glob (``*`` within one path component, ``**`` across them, ``?``, ``{a,b}``, ``[..]``),
``label`` a list of label names, ``resource`` ``image`` or ``artifact``. ``decoration``
(``matches``, the default, or ``excludes``) applies to ``tag`` and ``label``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harbor_api.adapters.patterns import compile_glob
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


def glob_match(pattern: str, value: str) -> bool:
    return compile_glob(pattern).match(value) is not None


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
        compile_glob(value)
    elif kind == "label":
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise BadRequestError("the value of the label filter must be a list of names")
    elif value not in RESOURCES:
        raise BadRequestError(f"invalid resource {value!r}; supported: {', '.join(RESOURCES)}")
    return Filter(kind, value, decoration if kind in ("tag", "label") else "")
