"""Manifest endpoints: PUT/GET/HEAD/DELETE of ``/v2/<name>/manifests/<tag|digest>``.

HTTP only: the rules are ``services.oci.manifests``'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio

from harbor_api.errors import HarborError, ManifestUnknownError
from harbor_api.registry.manifests import OCI_INDEX, OCI_MANIFEST
from harbor_api.services import audit
from harbor_api.services.oci import repository_access
from harbor_api.services.oci.manifests import (
    InProxyProject,
    LoadedManifest,
    PushedManifest,
    parse_reference,
)
from harbor_api.v2 import offload
from harbor_api.v2.http import Request, Responder
from harbor_api.v2.routes import Route

if TYPE_CHECKING:
    from harbor_api.v2.app import RegistryApp

_OCI_TYPES = (OCI_MANIFEST, OCI_INDEX)


def _acceptable(request: Request, media_type: str) -> bool:
    """Distribution's rule: a tag resolving to an OCI manifest is not served to a client
    whose ``Accept`` list names media types but no OCI one."""
    accept = request.header("accept")
    if not accept:
        return True
    accepted = {part.split(";", 1)[0].strip().lower() for part in accept.split(",")}
    if "*/*" in accepted or media_type in accepted or media_type not in _OCI_TYPES:
        return True
    return False


def _unknown(route: Route) -> ManifestUnknownError:
    return ManifestUnknownError(
        f"manifest unknown: {route.argument}",
        detail={"name": route.name, "reference": route.argument},
    )


async def get_manifest(
    app: RegistryApp, request: Request, responder: Responder, route: Route
) -> None:
    try:
        reference = parse_reference(route.argument)
    except HarborError:  # neither tag nor digest: unknown, as the OCI pull workflow expects
        reference = None
    principal, head = request.ctx.principal, request.method == "HEAD"

    def load() -> LoadedManifest | InProxyProject | None:
        return app.manifests.load_unless_proxied(
            principal, route.name, reference, not head, request.actions
        )

    found = await offload.run_read(
        app, load, repository_access.token_allows(principal, route.name, request.actions)
    )
    if isinstance(found, InProxyProject):  # authorised by that read
        found = await anyio.to_thread.run_sync(  # may ask the upstream: never inline
            app.proxy_cache.load_manifest,
            principal,
            route.name,
            reference,
            not head,
            request.actions,
        )
    if (
        found is None
        or reference is None
        or (not reference.by_digest and not _acceptable(request, found.ref.media_type))
    ):
        raise _unknown(route)
    ref = found.ref
    headers = {
        "Docker-Content-Digest": ref.digest,
        "ETag": f'"{ref.digest}"',
        "Content-Type": ref.media_type,
        "Content-Length": str(ref.size),
    }
    await responder.start(200, headers)
    await responder.body(b"" if head else found.body, False)
    if not head:
        app.pulls.record(route.name, ref.digest, reference.tag, audit.actor(principal))


async def put_manifest(
    app: RegistryApp, request: Request, responder: Responder, route: Route
) -> None:
    reference = parse_reference(route.argument)
    principal = request.ctx.principal
    project_id = await anyio.to_thread.run_sync(
        app.manifests.authorize_push, principal, route.name, request.actions
    )
    body = await request.read_body(app.state.settings.max_manifest_bytes)
    pushed: PushedManifest = await anyio.to_thread.run_sync(
        app.manifests.put,
        principal,
        route.name,
        reference,
        body,
        request.header("content-type") or "",
        project_id,
    )
    headers = {
        "Location": f"{request.ctx.base_url}/v2/{route.name}/manifests/{pushed.digest}",
        "Docker-Content-Digest": pushed.digest,
        "Content-Length": "0",
    }
    if pushed.subject is not None:
        headers["OCI-Subject"] = pushed.subject
    await responder.respond(201, headers)


async def delete_manifest(
    app: RegistryApp, request: Request, responder: Responder, route: Route
) -> None:
    reference = parse_reference(route.argument)
    if not await anyio.to_thread.run_sync(
        app.manifests.delete, request.ctx.principal, route.name, reference, request.actions
    ):
        raise _unknown(route)
    await responder.respond(202, {"Content-Length": "0"})


MANIFEST_HANDLERS = {
    ("manifest", "GET"): get_manifest,
    ("manifest", "HEAD"): get_manifest,
    ("manifest", "PUT"): put_manifest,
    ("manifest", "DELETE"): delete_manifest,
}
