"""The root ASGI application: one port for ``/v2/``, the API, the Swagger UI and the portal.

It assigns the request id, resolves the caller once (Basic or session cookie; the token
service adds Bearer), enforces CSRF for cookie-authenticated writes, and routes: ``/v2``
to the hand-written streaming registry edge, everything else to Connexion (or static files).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import itertools
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from http.cookies import SimpleCookie
from typing import Any

import anyio

from harbor_api import body_guard
from harbor_api.auth.principal import ANONYMOUS, Principal
from harbor_api.errors import UnauthorizedError, api_error_body, oci_error_body
from harbor_api.faults import translate
from harbor_api.log_setup import remote_var, request_id_var
from harbor_api.services import configurations
from harbor_api.services.context import AppState, RequestContext
from harbor_api.services.sessions import SESSION_COOKIE

ASGIApp = Callable[
    [dict, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]
]

log = logging.getLogger("harbor_api.access")

CSRF_HEADER = "x-harbor-csrf-token"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# Logging in again with a stale session cookie must work (it issues a new token).
_CSRF_EXEMPT = {"/api/v2.0/c/login"}
# A Host header usable in absolute URLs: a hostname or IPv4 address, or a bracketed IPv6
# address, and an optional port. Anything else (quotes, spaces, paths) is never echoed.
_HOSTNAME = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_HOST = re.compile(
    rf"(?:(?P<name>{_HOSTNAME}(?:\.{_HOSTNAME})*\.?)|\[(?P<ip6>[0-9A-Fa-f:.]+)\])"
    r"(?::(?P<port>[0-9]{1,5}))?"
)


def _valid_host(host: str) -> bool:
    """Whether ``host`` is a syntactically valid ``host[:port]``."""
    match = _HOST.fullmatch(host)
    if match is None or len(host) > 260:
        return False
    if match["port"] is not None and not 0 < int(match["port"]) < 65536:
        return False
    if match["ip6"] is not None:
        try:
            ipaddress.IPv6Address(match["ip6"])
        except ValueError:
            return False
    return True


# Docker-standard paths that live outside /api/v2.0 but are declared in the spec.
PATH_ALIASES = {
    "/service/token": "/api/v2.0/service/token",
    "/c/login": "/api/v2.0/c/login",
    "/c/log_out": "/api/v2.0/c/log_out",
}


class _RequestIds:
    """Request ids for requests that bring none: 32 hex digits, a random prefix per process
    (made again in a forked worker) and a counter (``uuid4`` per request costs a system call
    and an object, for the same uniqueness)."""

    def __init__(self) -> None:
        self._restart()
        os.register_at_fork(after_in_child=self._restart)

    def _restart(self) -> None:
        self._prefix = os.urandom(10).hex()
        self._counter = itertools.count(1)

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter) & 0xFFFFFFFFFFFF:012x}"


_request_ids = _RequestIds()


def _log_access(scope: dict, status: int, started: float) -> None:
    ctx = scope.get("harbor.ctx")
    log.info(
        "%s %s %s",
        scope["method"],
        scope["path"],
        status,
        extra={
            "method": scope["method"],
            "path": scope["path"],
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "user": ctx.principal.username if ctx else "",
            "remote": (scope.get("client") or ("", 0))[0],
        },
    )


def _header(scope: dict, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _basic_credentials(value: str) -> tuple[str, str] | None:
    scheme, _, encoded = value.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")
    username, _, password = decoded.partition(":")
    return username, password


def _is_registry_path(path: str) -> bool:
    return path == "/v2" or path.startswith("/v2/")


def _csrf_matches(sent: str | None, expected: str | None) -> bool:
    """Constant-time comparison; a session without a CSRF token accepts no write."""
    if not sent or not expected:
        return False
    return hmac.compare_digest(sent.encode("latin-1"), expected.encode("latin-1"))


class RootApp:
    def __init__(
        self,
        state: AppState,
        api: ASGIApp,
        registry: ASGIApp | None,
        static: Mapping[str, ASGIApp],
        spec_routes: Mapping[str, ASGIApp] | None = None,
    ) -> None:
        self.state = state
        self.spec_routes = spec_routes or {}
        self.api = api
        self.registry = registry
        self.static = static  # path prefix -> ASGI app (devcenter, spec, portal)
        self.bearer: Callable[[str, dict], Principal | None] | None = None
        # SQLite in WAL mode never makes a reader wait: indexed reads may run on the loop.
        self.inline_reads = state.db.dialect == "sqlite"

    async def __call__(self, scope: dict, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self.api(scope, receive, send)
            return
        if scope["type"] != "http":
            return
        rid = (_header(scope, b"x-request-id") or "")[:128] or _request_ids.next()
        token = request_id_var.set(rid)
        remote_token = remote_var.set((scope.get("client") or ("", 0))[0])
        started = time.perf_counter()
        status_box = {"status": 0}

        async def send_with_id(message: dict) -> None:
            if message["type"] == "http.response.start":
                status_box["status"] = message["status"]
                headers = [
                    h
                    for h in message.get("headers", [])
                    if h[0].lower() not in (b"x-request-id", b"x-content-type-options")
                ]
                headers.append((b"x-request-id", rid.encode("latin-1")))
                headers.append((b"x-content-type-options", b"nosniff"))  # no type sniffing
                message = {**message, "headers": headers}
            await send(message)

        try:
            with configurations.request_scope():  # checked once per request, then reused
                await self._dispatch(scope, receive, send_with_id, rid)
        finally:
            if log.isEnabledFor(logging.INFO):  # the record's fields cost even when dropped
                _log_access(scope, status_box["status"], started)
            request_id_var.reset(token)
            remote_var.reset(remote_token)

    async def _dispatch(self, scope: dict, receive, send, rid: str) -> None:
        path = scope["path"]
        if path in PATH_ALIASES:
            scope = {**scope, "path": PATH_ALIASES[path], "raw_path": PATH_ALIASES[path].encode()}
            path = scope["path"]
        if path in self.spec_routes:
            await self.spec_routes[path](scope, receive, send)
            return
        is_registry = _is_registry_path(path)
        is_api = path.startswith("/api/")
        if not (is_registry or is_api):
            for prefix, app in self.static.items():
                if path == prefix or path.startswith(prefix.rstrip("/") + "/") or prefix == "/":
                    await app(scope, receive, send)
                    return
        if is_api and scope["method"] not in ("GET", "HEAD"):
            try:  # before authentication: a hostile body never reaches a parser
                receive = await body_guard.read_checked(
                    scope,
                    receive,
                    _header(scope, b"content-type"),
                    _header(scope, b"content-length"),
                )
            except body_guard.BodyRefused as refused:
                await _send_error(send, refused.status, refused.code, refused.message)
                return
        try:
            principal, auth_error = await self._principal(scope)
        except Exception as exc:  # e.g. the database is locked or unreachable
            fault = translate(exc)
            if fault is None:
                raise
            log.warning("%s %s: resolving the caller failed: %s", scope["method"], path, exc)
            body = oci_error_body(fault.code, fault.message) if is_registry else None
            await _send_error(
                send,
                fault.status,
                fault.code,
                fault.message,
                body=body,
                headers=[(k.lower().encode(), v.encode()) for k, v in fault.headers.items()],
            )
            return
        ctx = RequestContext(
            app=self.state, principal=principal, request_id=rid, base_url=self._base_url(scope)
        )
        scope["harbor.ctx"] = ctx
        scope["harbor.auth_error"] = auth_error
        if (
            principal.via == "session"
            and scope["method"] not in _SAFE_METHODS
            and path not in _CSRF_EXEMPT
            and not _csrf_matches(_header(scope, CSRF_HEADER.encode()), principal.csrf_token)
        ):  # /v2 writes included
            message = (
                "CSRF token missing or invalid; send the X-Harbor-CSRF-Token header "
                "with the value from login"
            )
            body = oci_error_body("DENIED", message) if is_registry else None
            await _send_error(send, 403, "FORBIDDEN", message, body=body)
            return
        if is_registry and self.registry is not None:
            await self.registry(scope, receive, send)
            return
        if auth_error:
            await _send_error(send, 401, "UNAUTHORIZED", auth_error)
            return
        await self.api(scope, receive, send)

    def _base_url(self, scope: dict) -> str:
        """Scheme and host of the absolute URLs in answers: the configured external URL
        (a client's ``Host`` header is never echoed then), else the host the client used if
        it is a valid ``host[:port]`` (a malformed one falls back to the bound URL)."""
        if self.state.settings.external_url:
            return self.state.settings.resolved_external_url
        host = _header(scope, b"host")
        scheme = scope.get("scheme", "http")
        if host and _valid_host(host):
            return f"{scheme}://{host}"
        return self.state.settings.resolved_external_url

    async def _principal(self, scope: dict) -> tuple[Principal, str | None]:
        auth = self.state.authenticator
        authorization = _header(scope, b"authorization")
        if authorization:
            creds = _basic_credentials(authorization)
            if creds is not None:
                if self.inline_reads:  # recently verified: one indexed read, no thread hop
                    quick = getattr(auth, "basic_cached", None)
                    found = quick(*creds) if quick is not None else None
                    if found is not None:
                        return found, None
                try:
                    found = await anyio.to_thread.run_sync(auth.basic, *creds)
                except UnauthorizedError as exc:  # e.g. the LDAP server is down: say so
                    return ANONYMOUS, exc.message
                return (found, None) if found else (ANONYMOUS, "invalid credentials")
            scheme, _, value = authorization.partition(" ")
            if scheme.lower() == "bearer" and self.bearer is not None:
                if not _is_registry_path(scope["path"]):  # as Harbor: no API credential
                    return ANONYMOUS, "registry tokens are accepted on /v2/ only"
                token = value.strip()
                known = getattr(self.bearer, "known", None)  # a recent verdict: no I/O
                found = known(token) if known is not None else None
                if found is not None:
                    return found, None
                if self.inline_reads:  # the verifier only reads: cheaper than a hop
                    found = self.bearer(token, scope)
                else:
                    found = await anyio.to_thread.run_sync(self.bearer, token, scope)
                return (found, None) if found else (ANONYMOUS, "invalid or expired token")
            return ANONYMOUS, "unsupported authorization scheme"
        cookie_header = _header(scope, b"cookie")
        if cookie_header:
            cookies: SimpleCookie[Any] = SimpleCookie()
            try:
                cookies.load(cookie_header)
            except Exception:  # a malformed Cookie header is treated as absent
                return ANONYMOUS, None
            morsel = cookies.get(SESSION_COOKIE)
            if morsel is not None and morsel.value:
                found = await anyio.to_thread.run_sync(auth.session, morsel.value)
                if found:
                    return found, None
        return ANONYMOUS, None


async def _send_error(
    send,
    status: int,
    code: str,
    message: str,
    headers: list[tuple[bytes, bytes]] | None = None,
    body: bytes | None = None,
) -> None:
    body = body if body is not None else api_error_body(code, message)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ]
            + (headers or []),
        }
    )
    await send({"type": "http.response.body", "body": body})
