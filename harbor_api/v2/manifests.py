"""Manifest endpoints: PUT/GET/HEAD/DELETE of ``/v2/<name>/manifests/<tag|digest>``."""

from __future__ import annotations

import anyio
from sqlalchemy.exc import IntegrityError

from harbor_api.errors import (
    DigestInvalidError,
    HarborError,
    ManifestUnknownError,
    NameInvalidError,
)
from harbor_api.registry.digest import digest_of, parse_digest
from harbor_api.registry.manifests import OCI_INDEX, OCI_MANIFEST, parse_manifest
from harbor_api.registry.names import is_tag
from harbor_api.registry.storage.base import StorageNotFoundError
from harbor_api.services import audit
from harbor_api.services.oci import artifacts, repositories, repository_access
from harbor_api.v2 import offload

_OCI_TYPES = (OCI_MANIFEST, OCI_INDEX)


def _reference(reference: str) -> bool:
    """True when ``reference`` is a digest, False for a tag; invalid → error."""
    if is_tag(reference):
        return False
    if ":" in reference:
        parse_digest(reference)
        return True
    raise NameInvalidError(f"invalid tag or digest {reference[:130]!r}")


def _resource(name: str, reference: str, by_digest: bool) -> str:
    """How Harbor's audit log names an artifact: ``repo@digest`` or ``repo:tag``."""
    return f"{name}@{reference}" if by_digest else f"{name}:{reference}"


def _acceptable(request, media_type: str) -> bool:
    """Distribution's rule: a tag resolving to an OCI manifest is not served to a client
    whose ``Accept`` list names media types but no OCI one."""
    accept = request.header("accept")
    if not accept:
        return True
    accepted = {part.split(";", 1)[0].strip().lower() for part in accept.split(",")}
    if "*/*" in accepted or media_type in accepted or media_type not in _OCI_TYPES:
        return True
    return False


async def get_manifest(app, request, responder, route) -> None:
    try:
        by_digest: bool | None = _reference(route.argument)
    except HarborError:  # neither tag nor digest: unknown, as the OCI pull workflow expects
        by_digest = None
    principal, head = request.ctx.principal, request.method == "HEAD"

    def load():
        with app.db.read() as session:
            repository_access.authorize(session, principal, route.name, request.actions)
            if by_digest is None:
                return None, b""
            found = artifacts.find_manifest(session, route.name, route.argument, by_digest)
        if found is None or head:
            return found, b""
        try:
            return found, app.blobs.get(found.digest)
        except StorageNotFoundError:
            return None, b""

    found, body = await offload.run_read(app, load, repository_access.token_allows(
        principal, route.name, request.actions))
    if found is None or (not by_digest and not _acceptable(request, found.media_type)):
        raise ManifestUnknownError(f"manifest unknown: {route.argument}",
                                   detail={"name": route.name, "reference": route.argument})
    headers = {"Docker-Content-Digest": found.digest, "ETag": f'"{found.digest}"',
               "Content-Type": found.media_type, "Content-Length": str(found.size)}
    await responder.start(200, headers)
    await responder.body(b"" if head else body, False)
    if not head:
        app.pulls.record(route.name, found.digest, None if by_digest else route.argument,
                         audit.actor(principal))


async def put_manifest(app, request, responder, route) -> None:
    by_digest = _reference(route.argument)
    principal = request.ctx.principal

    def check() -> int:  # before the body is read: an anonymous push is 401, never 400
        with app.db.read() as session:
            return repository_access.authorize(session, principal, route.name,
                                               request.actions).id

    project_id = await anyio.to_thread.run_sync(check)
    body = await request.read_body(app.state.settings.max_manifest_bytes)
    parsed = parse_manifest(body, request.header("content-type") or "")
    algorithm = parse_digest(route.argument).algorithm if by_digest else "sha256"
    digest = digest_of(body, algorithm)
    if by_digest and digest != route.argument:
        raise DigestInvalidError(f"manifest digest {digest} does not match {route.argument}",
                                 detail={"digest": route.argument})

    def store() -> None:
        app.blobs.put_verified(digest, body)
        for attempt in range(3):  # a concurrent push of the same manifest or tag may win
            try:
                with app.db.transaction() as session:
                    repo_id = repositories.ensure_repository(session, route.name, project_id)
                    artifacts.record_manifest(session, repo_id, digest, len(body), parsed,
                                              None if by_digest else route.argument)
                    audit.record(session, principal, "create", "artifact",
                                 _resource(route.name, route.argument, by_digest), project_id)
                return
            except IntegrityError:
                if attempt == 2:
                    raise

    await anyio.to_thread.run_sync(store)
    headers = {"Location": f"{request.ctx.base_url}/v2/{route.name}/manifests/{digest}",
               "Docker-Content-Digest": digest, "Content-Length": "0"}
    if parsed.subject is not None:
        headers["OCI-Subject"] = parsed.subject.digest
    await responder.respond(201, headers)


async def delete_manifest(app, request, responder, route) -> None:
    by_digest = _reference(route.argument)
    principal = request.ctx.principal

    def remove() -> bool:
        with app.db.transaction() as session:
            project = repository_access.authorize(session, principal, route.name,
                                                  request.actions)
            repo_id = repositories.repository_id(session, route.name)
            if repo_id is None:
                return False
            if by_digest:
                deleted = artifacts.delete_manifest(session, repo_id, route.argument)
            else:
                deleted = artifacts.delete_tag(session, repo_id, route.argument)
            if deleted:
                audit.record(session, principal, "delete", "artifact" if by_digest else "tag",
                             _resource(route.name, route.argument, by_digest), project.id)
            return deleted

    if not await anyio.to_thread.run_sync(remove):
        raise ManifestUnknownError(f"manifest unknown: {route.argument}",
                                   detail={"name": route.name, "reference": route.argument})
    await responder.respond(202, {"Content-Length": "0"})


MANIFEST_HANDLERS = {
    ("manifest", "GET"): get_manifest, ("manifest", "HEAD"): get_manifest,
    ("manifest", "PUT"): put_manifest, ("manifest", "DELETE"): delete_manifest,
}
