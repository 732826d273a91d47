"""``RegistryApp``: the raw ASGI application serving OCI Distribution under ``/v2/``.

Bodies stream straight between the socket and the storage driver; database work happens in
short transactions before and after, in worker threads, never while a body streams.
"""

from __future__ import annotations

import logging

from harbor_api.errors import (
    HarborError,
    MethodNotAllowedError,
    NotFoundError,
    UnauthorizedError,
    oci_error_body,
    public_message,
)
from harbor_api.faults import translate
from harbor_api.registry.blobs import BlobStore
from harbor_api.registry.names import validate_repository_name
from harbor_api.registry.upload_files import UploadFiles
from harbor_api.services.context import AppState
from harbor_api.services.oci.blob_links import BlobLinks
from harbor_api.services.oci.listings import Listings
from harbor_api.services.oci.manifests import Manifests
from harbor_api.services.oci.proxy_cache import ProxyCache
from harbor_api.services.oci.upload_sessions import UploadSessions
from harbor_api.services.oci.upload_sweep import UploadSweeper
from harbor_api.v2 import access, offload, routes
from harbor_api.v2.blobs import BLOB_HANDLERS
from harbor_api.v2.http import ClientDisconnectedError, Request, Responder
from harbor_api.v2.listing import LISTING_HANDLERS
from harbor_api.v2.manifests import MANIFEST_HANDLERS
from harbor_api.v2.pulls import PullRecorder
from harbor_api.v2.upload_routes import UPLOAD_HANDLERS

log = logging.getLogger(__name__)

_DRAIN_LIMIT = 4 * 1024 * 1024
_HANDLERS = {**BLOB_HANDLERS, **UPLOAD_HANDLERS, **MANIFEST_HANDLERS, **LISTING_HANDLERS}


def _allowed(endpoint: str) -> str:
    """The ``Allow`` header of a 405: the methods the route answers."""
    return ", ".join(sorted({method for (name, method) in _HANDLERS if name == endpoint}))


class RegistryApp:
    def __init__(self, state: AppState) -> None:
        if state.storage is None:
            raise ValueError("the /v2 edge needs a state made by build_state (with storage)")
        self.state = state
        self.driver = state.storage
        self.blobs = BlobStore(self.driver)
        self.uploads = UploadFiles(self.driver)
        self.manifests = Manifests(state.db, self.blobs)
        self.blob_links = BlobLinks(state.db)
        self.listings = Listings(state.db)
        self.upload_sessions = UploadSessions(state.db, self.uploads, self.blobs, state.settings)
        self.proxy_cache = ProxyCache(state, self.manifests, self.upload_sessions, self.blobs)
        self.pulls = PullRecorder(state.db)
        self.inline_reads = offload.inline_reads_allowed(state.db, self.driver)
        settings = state.settings
        self.sweeper = UploadSweeper(
            state.db,
            self.uploads,
            settings.upload_purge_age_seconds,
            settings.upload_purge_interval_seconds,
        )
        self.sweeper.start()  # at start, then every upload_purge_interval_seconds

    def purge_stale_uploads(self) -> int:
        """One sweep of abandoned uploads now (see ``services.oci.upload_sweep``)."""
        return self.sweeper.sweep()

    @property
    def db(self):
        return self.state.db

    async def __call__(self, scope: dict, receive, send) -> None:
        request = Request(scope, receive)
        responder = Responder(send, head=request.method == "HEAD")
        route = routes.match(request.path)
        request.actions = access.needed_actions(route.endpoint if route else "", request.method)
        try:
            await self._dispatch(request, responder, route)
        except ClientDisconnectedError:
            log.info("client disconnected during %s %s", request.method, request.path)
        except HarborError as error:
            if responder.started:
                log.warning("error after the response started: %s", error)
                return
            await self._error(request, responder, route, error)
        except Exception as exc:
            fault = translate(exc)  # a full disk, a locked or unreachable database
            if fault is None:
                log.exception("unhandled error in %s %s", request.method, request.path)
                fault = HarborError()
            else:
                log.warning("%s %s failed: %s", request.method, request.path, exc)
            if not responder.started:
                await self._error(request, responder, route, fault)

    async def _dispatch(
        self, request: Request, responder: Responder, route: routes.Route | None
    ) -> None:
        if request.scope.get("harbor.auth_error"):
            raise UnauthorizedError(request.scope["harbor.auth_error"])
        if route is None:
            raise NotFoundError("no such registry endpoint")
        if route.endpoint == "base":
            if request.method not in ("GET", "HEAD"):
                raise MethodNotAllowedError(headers={"Allow": "GET, HEAD"})
            principal = request.ctx.principal
            if not principal.authenticated and principal.token_access is None:
                raise UnauthorizedError("authentication required")
            await responder.respond(200, {}, b"{}", "application/json")
            return
        if route.name:
            validate_repository_name(route.name)
        handler = _HANDLERS.get((route.endpoint, request.method))
        if handler is None:
            raise MethodNotAllowedError(
                f"{request.method} is not allowed here", headers={"Allow": _allowed(route.endpoint)}
            )
        await handler(self, request, responder, route)

    async def _error(
        self, request: Request, responder: Responder, route: routes.Route | None, error: HarborError
    ) -> None:
        if error.status >= 500:
            log.error("registry error %s: %s", error.code, error.message)
        headers = dict(error.headers)
        scope_error = error.detail == {"error": "insufficient_scope"}
        if error.status == 401 or scope_error:
            headers["WWW-Authenticate"] = access.challenge(
                self.state,
                route.name if route else None,
                request.actions,
                request.ctx.base_url,
                route.endpoint if route else None,
                access.mount_source(request, route),
            ) + (',error="insufficient_scope"' if scope_error else "")
        body = oci_error_body(error.code, public_message(error), error.detail)
        if (
            request.method in ("POST", "PUT", "PATCH")
            and not request.body_done
            and (request.body_started or not request.header("expect"))
        ):
            # (with Expect and nothing read yet no 100 Continue was sent: no body will come)
            await request.drain(_DRAIN_LIMIT)  # lets the client read the error
        await responder.respond(error.status, headers, body, "application/json")
