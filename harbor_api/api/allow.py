"""The ``Allow`` header of a 405: the methods the spec declares for the request's path.

Connexion routes each operation separately, so the router that refuses a method knows only
one of the path's methods; the spec knows them all (RFC 9110 §15.5.6 requires the list).
"""

from __future__ import annotations

import re

_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_PARAM = re.compile(r"\\\{([^/]+?)\\\}")
# What Connexion's router lets a path parameter match, by its schema type.
_SEGMENT = {"integer": "-?[0-9]+", "number": r"-?[0-9]+(?:\.[0-9]+)?"}


class AllowedMethods:
    """Path template → declared methods, for a spec served under ``base``."""

    def __init__(self, spec: dict, base: str = "/api/v2.0") -> None:
        self._routes: list[tuple[re.Pattern[str], frozenset[str]]] = []
        for template, item in spec.get("paths", {}).items():
            methods = {m.upper() for m in item if m.upper() in _METHODS}
            if "GET" in methods:
                methods.add("HEAD")  # answered for every GET route
            pattern = _template_pattern(base + template, _path_parameter_types(spec, item))
            self._routes.append((pattern, frozenset(methods)))

    def for_path(self, path: str) -> str:
        """The ``Allow`` value for ``path`` (every matching template's methods, ordered)."""
        found: set[str] = set()
        for pattern, methods in self._routes:
            if pattern.match(path):
                found |= methods
        return ", ".join(m for m in _METHODS if m in found)


def _template_pattern(template: str, types: dict[str, str]) -> re.Pattern[str]:
    """``/users/{user_id}`` → a regex matching what the router routes there."""
    pattern = _PARAM.sub(lambda m: _SEGMENT.get(types.get(m[1], ""), "[^/]+"), re.escape(template))
    return re.compile(pattern + r"\Z")


def _path_parameter_types(spec: dict, item: dict) -> dict[str, str]:
    """Each path parameter's schema type, from the path item and its operations."""
    types: dict[str, str] = {}
    operations = [op for m, op in item.items() if m.upper() in _METHODS]
    for param in item.get("parameters", []) + [
        p for op in operations for p in op.get("parameters", [])
    ]:
        if "$ref" in param:
            param = spec["components"]["parameters"][param["$ref"].rsplit("/", 1)[1]]
        if param.get("in") == "path":
            types[param["name"]] = param.get("schema", {}).get("type", "string")
    return types
