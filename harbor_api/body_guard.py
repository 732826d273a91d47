"""Refuse hostile request bodies on the management API before anything parses them.

A JSON parser recurses once per ``[`` or ``{``: ``[[[[…`` a few thousand deep overflows it,
which would surface as a 500 (with a traceback per request) before authentication. The root
app reads the (small) API body once, checks its size and nesting depth, and hands the same
bytes on; the /v2 edge streams its bodies and is not affected.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

MAX_BODY_BYTES = 4 * 1024 * 1024  # the largest JSON body a management request may send
MAX_DEPTH = 64  # Harbor's payloads nest a handful of levels; 64 leaves ample room

_STRUCTURE = re.compile(rb'[\[\]{}"\\]')


class BodyRefused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def nesting_depth_exceeds(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """True when arrays/objects nest deeper than ``limit`` (brackets in strings ignored)."""
    if body.count(b"[") + body.count(b"{") <= limit:  # the common case: no scan needed
        return False
    depth, in_string, escaped = 0, False, False
    last = -2
    for match in _STRUCTURE.finditer(body):
        char, at = match.group(), match.start()
        if in_string:
            if escaped and at == last + 1:  # the character right after a backslash
                escaped = False
            elif char == b"\\":
                escaped, last = True, at
            elif char == b'"':
                in_string = False
            continue
        if char == b'"':
            in_string, escaped = True, False
        elif char in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif char in (b"]", b"}"):
            depth = max(depth - 1, 0)
    return False


def _is_json(content_type: str | None) -> bool:
    """JSON, or no type at all (parsers may still try JSON); forms are parsed flat."""
    return not content_type or "json" in content_type.lower()


async def read_checked(
    scope: dict,
    receive: Callable[[], Awaitable[dict]],
    content_type: str | None,
    content_length: str | None,
) -> Callable[[], Awaitable[dict]]:
    """Read the whole body, refuse it if too large or (JSON) too deep, and return a
    ``receive`` that replays it. Raises :class:`BodyRefused`."""
    if content_length and content_length.strip().isdigit() and int(content_length) > MAX_BODY_BYTES:
        raise BodyRefused(
            413, "PAYLOAD_TOO_LARGE", f"request body exceeds the limit of {MAX_BODY_BYTES} bytes"
        )
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away: pass that on
            return _replay([], message, receive)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyRefused(
                413,
                "PAYLOAD_TOO_LARGE",
                f"request body exceeds the limit of {MAX_BODY_BYTES} bytes",
            )
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    if _is_json(content_type) and nesting_depth_exceeds(body):
        raise BodyRefused(
            400, "BAD_REQUEST", f"JSON body is nested more than {MAX_DEPTH} levels deep"
        )
    return _replay([{"type": "http.request", "body": body, "more_body": False}], None, receive)


def _replay(
    messages: list[dict], final: dict | None, receive: Callable[[], Awaitable[dict]]
) -> Callable[[], Awaitable[dict]]:
    pending = list(messages) + ([final] if final is not None else [])

    async def replay() -> dict:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
