"""HTTP to a remote registry: TLS (``insecure`` skips verification), Basic credentials, and
the Docker token flow (a 401 challenge names a realm; the token it issues for a scope is
cached until shortly before it expires and reused for every request on that scope).

Bodies are never buffered: requests take iterators, responses are opened streamed.
"""

from __future__ import annotations

import base64
import json
import re
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from harbor_api.adapters.base import (
    AdapterError,
    AuthenticationError,
    Endpoint,
    NotFoundOnRemoteError,
)

USER_AGENT = "harbor-api-replication"
TIMEOUT = httpx.Timeout(30.0, read=300.0)
_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')
TOKEN_SLACK_SECONDS = 10


@dataclass(frozen=True)
class Challenge:
    scheme: str  # "bearer" or "basic"
    params: dict[str, str]


def parse_challenge(header: str) -> Challenge | None:
    scheme, _, rest = header.strip().partition(" ")
    if not scheme:
        return None
    params = {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _PARAM.finditer(rest)
    }
    return Challenge(scheme.lower(), params)


class RegistryTransport:
    """One endpoint's connections and credentials, shared by the calls of one adapter."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.client = httpx.Client(
            verify=not endpoint.insecure,
            timeout=TIMEOUT,
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,
        )
        self._tokens: dict[tuple[str, ...], tuple[str, float]] = {}
        self._basic_ok = False
        self._bearer: Challenge | None = None  # the realm the endpoint challenged with
        self._lock = threading.Lock()

    def close(self) -> None:
        self.client.close()

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.endpoint.url + path

    @property
    def basic_auth(self) -> httpx.BasicAuth | None:
        cred = self.endpoint.credential
        if cred and (cred.access_key or cred.access_secret):
            return httpx.BasicAuth(cred.access_key, cred.access_secret)
        return None

    # -- requests ---------------------------------------------------------------------
    @contextmanager
    def stream(
        self,
        method: str,
        path: str,
        *,
        scopes: tuple[str, ...] = (),
        headers: dict[str, str] | None = None,
        content=None,
        replayable: bool = True,
        follow: bool = True,
        basic: bool = False,
        json_body=None,
    ) -> Iterator[httpx.Response]:
        """Send and yield the open response. On a 401 the challenge is answered and the
        request sent once more, if its body can be sent again (``replayable``); bodies from
        iterators are sent after an earlier request on the same scopes got the token.
        ``basic`` sends the credential up front (Harbor's management API)."""
        url = self.url(path)
        if json_body is not None:
            content = json.dumps(json_body).encode()
            headers = {**(headers or {}), "Content-Type": "application/json"}
        if not basic and scopes:
            self._token_up_front(scopes)
        for attempt in (1, 2):
            sent = self._basic_header() if basic else self._authorization(scopes)
            response = self._send(method, url, headers, content, sent)
            if response.status_code == 401 and attempt == 1 and replayable and not basic:
                challenge = parse_challenge(response.headers.get("www-authenticate", ""))
                response.close()
                self._answer(challenge, scopes, sent or "")
                continue
            while follow and response.is_redirect and method in ("GET", "HEAD"):
                target = response.headers["location"]
                response.close()  # blob downloads redirect to storage: no credentials there
                response = self.client.send(
                    self.client.build_request(
                        method, str(httpx.URL(url).join(target)), headers=headers
                    ),
                    stream=True,
                )
            try:
                yield response
            finally:
                response.close()
            return

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        """A request whose (small) answer is read whole."""
        with self.stream(method, path, **kwargs) as response:
            response.read()
            return response

    def _send(self, method, url, headers, content, auth) -> httpx.Response:
        all_headers = dict(headers or {})
        if auth:
            all_headers["Authorization"] = auth
        try:
            request = self.client.build_request(method, url, headers=all_headers, content=content)
        except httpx.InvalidURL as exc:  # an endpoint stored before its URL was checked
            raise AdapterError(f"{self.endpoint.url}: invalid url: {exc}") from None
        try:
            return self.client.send(request, stream=True)
        except httpx.ConnectError as exc:
            raise AdapterError(_connect_reason(url, exc)) from None
        except httpx.TimeoutException:
            raise AdapterError(f"{self.endpoint.url} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise AdapterError(f"{self.endpoint.url}: {type(exc).__name__}: {exc}") from None

    # -- authentication ---------------------------------------------------------------
    def _authorization(self, scopes: tuple[str, ...]) -> str | None:
        with self._lock:
            token = self._tokens.get(scopes)
            if token and token[1] > time.monotonic():
                return f"Bearer {token[0]}"
        return self._basic_header() if self._basic_ok else None

    def _token_up_front(self, scopes: tuple[str, ...]) -> None:
        """Once the endpoint has shown its Bearer realm, a token for a new scope is
        fetched before the request, not after a 401 answer to it (one round trip less)."""
        with self._lock:
            challenge = self._bearer
            token = self._tokens.get(scopes)
            if challenge is None or (token and token[1] > time.monotonic()):
                return
        self._answer(challenge, scopes, "")

    def _basic_header(self) -> str | None:
        cred = self.endpoint.credential
        if cred is None or not (cred.access_key or cred.access_secret):
            return None
        raw = f"{cred.access_key}:{cred.access_secret}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    def _answer(self, challenge: Challenge | None, scopes: tuple[str, ...], sent: str) -> None:
        if challenge is None:
            raise AuthenticationError(f"{self.endpoint.url} answered 401 without a challenge", 401)
        if challenge.scheme == "basic":
            if not self.basic_auth:
                raise AuthenticationError(
                    f"{self.endpoint.url} requires credentials and none are configured", 401
                )
            if sent.startswith("Basic "):
                raise AuthenticationError(f"{self.endpoint.url} refused the credential (401)", 401)
            self._basic_ok = True
            return
        if challenge.scheme != "bearer" or "realm" not in challenge.params:
            raise AuthenticationError(
                f"{self.endpoint.url} asks for unsupported authentication {challenge.scheme!r}", 401
            )
        with self._lock:
            self._bearer = challenge
        if sent.startswith("Bearer "):  # refused (expired early?): fetch a new one, once
            with self._lock:
                self._tokens.pop(scopes, None)
        wanted = scopes or tuple(filter(None, [challenge.params.get("scope", "")]))
        token, lifetime = self.fetch_token(
            challenge.params["realm"], challenge.params.get("service", ""), wanted
        )
        now = time.monotonic()
        with self._lock:
            for stale in [k for k, (_, until) in self._tokens.items() if until <= now]:
                del self._tokens[stale]  # a long-lived shared transport: expired ones go
            self._tokens[scopes] = (token, now + max(lifetime - TOKEN_SLACK_SECONDS, 1))

    def fetch_token(self, realm: str, service: str, scopes: tuple[str, ...]) -> tuple[str, float]:
        params = httpx.QueryParams([("service", service)] if service else [])
        for scope in scopes:
            params = params.add("scope", scope)
        try:
            response = self.client.get(realm, params=params, auth=self.basic_auth)
        except httpx.HTTPError as exc:
            raise AdapterError(
                f"token realm {realm} is unreachable: {type(exc).__name__}"
            ) from None
        if response.status_code in (401, 403):
            raise AuthenticationError(
                f"token realm {realm} refused the credential ({response.status_code})",
                response.status_code,
            )
        if response.status_code != 200:
            raise AdapterError(
                f"token realm {realm} answered {response.status_code}", response.status_code
            )
        try:
            body = response.json()
            token = body.get("token") or body["access_token"]
        except (ValueError, KeyError, AttributeError):
            raise AdapterError(f"token realm {realm} answered without a token") from None
        return token, float(body.get("expires_in") or 60)


class TransportPool:
    """Transports kept between the tasks of one process, one per endpoint (its URL, TLS
    setting and credential): a replication task finds the connections of the tasks before
    it open, the token realm known and the tokens of its scopes cached, instead of paying a
    TCP connect, a 401 challenge and a token round trip for every artifact. A transport
    nobody has leased for ``idle_seconds`` is closed."""

    def __init__(self, idle_seconds: float = 60.0) -> None:
        self.idle_seconds = idle_seconds
        self._entries: dict[Endpoint, list] = {}  # endpoint -> [transport, users, last used]
        self._lock = threading.Lock()

    @contextmanager
    def lease(self, endpoint: Endpoint) -> Iterator[RegistryTransport]:
        now = time.monotonic()
        with self._lock:
            for key, (transport, users, used) in list(self._entries.items()):
                if users == 0 and now - used > self.idle_seconds:
                    del self._entries[key]
                    transport.close()
            entry = self._entries.get(endpoint)
            if entry is None:
                entry = self._entries[endpoint] = [RegistryTransport(endpoint), 0, now]
            entry[1] += 1
        try:
            yield entry[0]
        finally:
            with self._lock:
                entry[1] -= 1
                entry[2] = time.monotonic()

    def close(self) -> None:
        with self._lock:
            for transport, _, _ in self._entries.values():
                transport.close()
            self._entries.clear()


def _connect_reason(url: str, exc: httpx.ConnectError) -> str:
    cause = exc.__context__ or exc.__cause__
    text = str(exc)
    if isinstance(cause, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in text:
        return (
            f"the certificate of {httpx.URL(url).host} does not verify ({text}); set "
            f"insecure to skip verification"
        )
    if "SSL" in text or "TLS" in text:
        return f"TLS with {httpx.URL(url).host} failed: {text}"
    return f"cannot connect to {httpx.URL(url).netloc.decode()}: {text}"


def raise_for_status(response: httpx.Response, what: str) -> None:
    """An :class:`AdapterError` naming the registry's own error message, if it sent one."""
    if response.is_success:
        return
    detail = ""
    try:
        errors = response.json().get("errors") or []
        detail = "; ".join(f"{e.get('code', '')}: {e.get('message', '')}" for e in errors)
    except Exception:  # noqa: BLE001 - a non-JSON error body: the status says enough
        pass
    message = f"{what}: {response.status_code}" + (f" ({detail})" if detail else "")
    if response.status_code == 404:
        raise NotFoundOnRemoteError(message, 404)
    if response.status_code in (401, 403):
        raise AuthenticationError(message, response.status_code)
    raise AdapterError(message, response.status_code)
