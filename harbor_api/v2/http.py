"""Minimal ASGI request/response plumbing for the /v2 edge: headers, query, streamed bodies."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from urllib.parse import parse_qsl

from harbor_api.errors import PayloadTooLargeError, SizeInvalidError

Headers = list[tuple[bytes, bytes]]
_API_VERSION_HEADER = (b"docker-distribution-api-version", b"registry/2.0")


class ClientDisconnectedError(Exception):
    """The client went away before its request body was complete."""


class Request:
    __slots__ = (
        "scope",
        "receive",
        "method",
        "path",
        "ctx",
        "_headers",
        "_query",
        "body_started",
        "body_done",
        "actions",
    )

    def __init__(self, scope: dict, receive) -> None:
        self.scope = scope
        self.receive = receive
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.ctx = scope["harbor.ctx"]
        self._headers: dict[bytes, bytes] | None = None
        self._query: dict[str, str] | None = None
        self.body_started = False
        self.body_done = False  # the last body message (or the disconnect) was received
        #: What the request needs on its repository (set once by the dispatcher, from
        #: ``access.ROUTE_ACTIONS``).
        self.actions: frozenset[str] = frozenset()

    def header(self, name: str) -> str | None:
        if self._headers is None:
            self._headers = {}
            for key, value in self.scope.get("headers", []):
                key = key.lower()
                if key in self._headers:  # repeated headers (e.g. Accept) are joined
                    self._headers[key] += b", " + value
                else:
                    self._headers[key] = value
        value = self._headers.get(name.lower().encode())
        return value.decode("latin-1") if value is not None else None

    @property
    def query(self) -> dict[str, str]:
        if self._query is None:
            raw = self.scope.get("query_string", b"").decode("latin-1")
            self._query = {}
            for key, value in parse_qsl(raw, keep_blank_values=True):
                self._query.setdefault(key, value)
        return self._query

    def content_length(self) -> int | None:
        value = self.header("content-length")
        if value is None:
            return None
        try:
            length = int(value)
        except ValueError:
            raise SizeInvalidError("invalid Content-Length") from None
        if length < 0:
            raise SizeInvalidError("invalid Content-Length")
        return length

    async def chunks(self) -> AsyncIterator[bytes]:
        """The request body as it arrives; raises ClientDisconnectedError when cut short."""
        self.body_started = True
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                self.body_done = True
                raise ClientDisconnectedError()
            if not message.get("more_body", False):
                self.body_done = True
            body = message.get("body", b"")
            if body:
                yield body
            if self.body_done:
                return

    async def read_body(self, limit: int) -> bytes:
        """The whole (small) body, refusing more than ``limit`` bytes."""
        declared = self.content_length()
        if declared is not None and declared > limit:
            raise PayloadTooLargeError(
                f"body of {declared} bytes exceeds the limit of {limit} bytes"
            )
        data = bytearray()
        async for chunk in self.chunks():
            data += chunk
            if len(data) > limit:
                raise PayloadTooLargeError(f"body exceeds the limit of {limit} bytes")
        return bytes(data)

    async def drain(self, limit: int | None = None) -> None:
        """Consume (and drop) an unread body so the connection can be reused; past
        ``limit`` bytes give up (the server then closes the connection)."""
        seen = 0
        try:
            async for chunk in self.chunks():
                seen += len(chunk)
                if limit is not None and seen > limit:
                    return
        except ClientDisconnectedError:
            pass


def encode_headers(headers: dict[str, str] | Iterable[tuple[str, str]]) -> Headers:
    items = headers.items() if isinstance(headers, dict) else headers
    return [(k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in items]


class Responder:
    """Wraps ``send`` and remembers whether the response has started."""

    __slots__ = ("send", "started", "head")

    def __init__(self, send, head: bool = False) -> None:
        self.send = send
        self.started = False
        self.head = head

    async def start(self, status: int, headers: dict[str, str]) -> None:
        self.started = True
        encoded = encode_headers(headers)
        encoded.append(_API_VERSION_HEADER)
        await self.send({"type": "http.response.start", "status": status, "headers": encoded})

    async def respond(
        self,
        status: int,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        content_type: str | None = None,
    ) -> None:
        headers = dict(headers or {})
        if content_type:
            headers["Content-Type"] = content_type
        headers["Content-Length"] = str(len(body))
        await self.start(status, headers)
        await self.send({"type": "http.response.body", "body": b"" if self.head else body})

    async def body(self, chunk: bytes, more: bool) -> None:
        await self.send({"type": "http.response.body", "body": chunk, "more_body": more})
