"""Harbor's name and tag filters: doublestar globs. ``*`` matches within one path segment,
``**`` across segments, ``?`` one character, ``{a,b}`` either alternative, ``[...]`` a
class; an empty pattern matches everything. The one glob of the project: replication
filters and the adapters' listings both use it; a malformed glob is a 400."""

from __future__ import annotations

import functools
import re

from harbor_api.errors import BadRequestError


@functools.lru_cache(maxsize=256)
def compile_glob(pattern: str) -> re.Pattern[str]:
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
    try:
        return re.compile("".join(out) + r"\Z")
    except re.error as exc:  # e.g. a reversed class range, [z-a]
        raise BadRequestError(f"invalid pattern {pattern!r}: {exc}") from None


def matches(pattern: str | None, value: str) -> bool:
    return not pattern or compile_glob(pattern).match(value) is not None
