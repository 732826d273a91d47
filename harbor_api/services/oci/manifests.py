"""Manifest rules without HTTP: put (validation, digest, references, the tag move, the retry on
a unique-key race), get and delete (the one delete-artifact rule the API shares).

Callers: the ``/v2`` edge (which reads the body and shapes headers) and replication (which
puts a manifest it fetched, no request object). Methods block; run them in a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from harbor_api.auth.principal import Principal
from harbor_api.db.session import Database
from harbor_api.errors import BlobCollectedError, DigestInvalidError, NameInvalidError
from harbor_api.registry.blobs import BlobStore
from harbor_api.registry.digest import digest_of, parse_digest
from harbor_api.registry.manifests import ParsedManifest, parse_manifest
from harbor_api.registry.names import is_tag
from harbor_api.registry.storage.base import StorageNotFoundError
from harbor_api.services import audit, events
from harbor_api.services.oci import (
    artifacts,
    blob_states,
    quota_checks,
    repositories,
    repository_access,
)
from harbor_api.services.oci.artifacts import ManifestRef
from harbor_api.services.oci.manifest_bodies import ManifestBodies

PULL = frozenset({"pull"})
PUSH = frozenset({"push"})
DELETE = frozenset({"delete"})
#: How often a put is tried when a concurrent push of the same manifest or tag wins a race.
PUT_ATTEMPTS = 3


@dataclass(frozen=True)
class Reference:
    """A manifest reference: a digest, or a tag."""

    value: str
    by_digest: bool

    @property
    def tag(self) -> str | None:
        return None if self.by_digest else self.value

    def resource(self, name: str) -> str:
        """How Harbor's audit log names the artifact: ``repo@digest`` or ``repo:tag``."""
        return f"{name}@{self.value}" if self.by_digest else f"{name}:{self.value}"


def parse_reference(reference: str) -> Reference:
    """A tag or a digest; anything else is NAME_INVALID (a bad digest DIGEST_INVALID)."""
    if is_tag(reference):
        return Reference(reference, False)
    if ":" in reference:
        parse_digest(reference)
        return Reference(reference, True)
    raise NameInvalidError(f"invalid tag or digest {reference[:130]!r}")


@dataclass(frozen=True)
class PushedManifest:
    digest: str
    size: int
    media_type: str
    subject: str | None  # the digest of the manifest this one refers to (OCI-Subject)


@dataclass(frozen=True)
class LoadedManifest:
    """A manifest found for a pull: what labels it, and its bytes (empty for a HEAD)."""

    ref: ManifestRef
    body: bytes


@dataclass(frozen=True)
class InProxyProject:
    """What :meth:`Manifests.load_unless_proxied` answers for a repository of a proxy-cache
    project: the pull is authorised and the proxy cache serves it."""

    project_id: int


class Manifests:
    def __init__(self, db: Database, blobs: BlobStore) -> None:
        self.db = db
        self.blobs = blobs
        self.bodies = ManifestBodies(blobs)  # immutable by digest: pulls skip the file read

    def authorize_push(self, principal: Principal, name: str, needed: frozenset[str] = PUSH) -> int:
        """The project id of ``name`` when ``principal`` may push there (checked before a
        body is read: an anonymous push is 401, never 400)."""
        with self.db.read() as session:
            return repository_access.authorize(session, principal, name, needed).id

    def load(
        self,
        principal: Principal,
        name: str,
        reference: Reference | None,
        with_body: bool,
        needed: frozenset[str] = PULL,
    ) -> LoadedManifest | None:
        """Authorise a pull and resolve ``reference`` (None: neither tag nor digest, which
        is unknown once the caller is authorised); None when unknown or its bytes are gone.
        Writes nothing when the caller holds a token covering the pull (inline-safe)."""
        found = self._load(principal, name, reference, with_body, needed, defer_proxy=False)
        assert not isinstance(found, InProxyProject)
        return found

    def load_unless_proxied(
        self,
        principal: Principal,
        name: str,
        reference: Reference | None,
        with_body: bool,
        needed: frozenset[str] = PULL,
    ) -> LoadedManifest | InProxyProject | None:
        """:meth:`load`, except in a proxy-cache project: :class:`InProxyProject` then (the
        project read that authorised the pull told; the proxy cache serves it)."""
        return self._load(principal, name, reference, with_body, needed, defer_proxy=True)

    def _load(
        self,
        principal: Principal,
        name: str,
        reference: Reference | None,
        with_body: bool,
        needed: frozenset[str],
        defer_proxy: bool,
    ) -> LoadedManifest | InProxyProject | None:
        with self.db.read() as session:
            project = repository_access.authorize(session, principal, name, needed)
            if defer_proxy and project.registry_id is not None:
                return InProxyProject(project.id)
            if reference is None:
                return None
            found = artifacts.find_manifest(session, name, reference.value, reference.by_digest)
        if found is None or not with_body:
            return None if found is None else LoadedManifest(found, b"")
        try:
            loaded = LoadedManifest(found, self.bodies.get(found.digest))
        except StorageNotFoundError:
            return None
        # subscribers answer from memory when no policy wants pulls (webhooks' cache)
        events.publish(
            self.db,
            events.ArtifactEvent("pull", name, found.digest, reference.tag, audit.actor(principal)),
        )
        return loaded

    @staticmethod
    def verify(body: bytes, content_type: str, reference: Reference) -> tuple[str, ParsedManifest]:
        """Parse and validate a manifest and compute its digest (in the reference's
        algorithm); a digest reference must match. Returns (digest, parsed)."""
        parsed = parse_manifest(body, content_type)
        algorithm = parse_digest(reference.value).algorithm if reference.by_digest else "sha256"
        digest = digest_of(body, algorithm)
        if reference.by_digest and digest != reference.value:
            raise DigestInvalidError(
                f"manifest digest {digest} does not match {reference.value}",
                detail={"digest": reference.value},
            )
        return digest, parsed

    def put(
        self,
        principal: Principal,
        name: str,
        reference: Reference,
        body: bytes,
        content_type: str,
        project_id: int | None = None,
    ) -> PushedManifest:
        """Store a manifest: validate it, store its bytes, record the artifact (every
        referenced blob and child must be in the repository) and move the tag. A concurrent
        push of the same manifest or tag may win the unique key: the put is retried."""
        if project_id is None:
            project_id = self.authorize_push(principal, name)
        digest, parsed = self.verify(body, content_type, reference)
        for attempt in range(PUT_ATTEMPTS):
            # (again after a refusal: a collection deleted the bytes of an earlier row)
            blob_states.wait_while_collected(self.db, digest)
            self.blobs.put_verified(digest, body)
            try:
                with self.db.transaction() as session:
                    quota_checks.charge_link(session, project_id, digest, len(body))
                    repo_id = repositories.ensure_repository(session, name, project_id)
                    artifacts.record_manifest(
                        session,
                        repo_id,
                        digest,
                        len(body),
                        parsed,
                        reference.tag,
                        self.blobs.exists,
                    )
                    audit.record(
                        session,
                        principal,
                        "create",
                        "artifact",
                        reference.resource(name),
                        project_id,
                    )
                break
            except (IntegrityError, BlobCollectedError):
                if attempt == PUT_ATTEMPTS - 1:
                    raise
        events.publish(
            self.db,
            events.ArtifactEvent("push", name, digest, reference.tag, audit.actor(principal)),
        )
        return PushedManifest(
            digest,
            len(body),
            parsed.media_type,
            parsed.subject.digest if parsed.subject is not None else None,
        )

    def delete(
        self, principal: Principal, name: str, reference: Reference, needed: frozenset[str] = DELETE
    ) -> bool:
        """Delete by digest (the artifact, by the rule the API shares:
        ``artifacts.delete_artifact``) or by tag (the tag only). False: unknown."""
        with self.db.transaction() as session:
            project = repository_access.authorize(session, principal, name, needed)
            repo_id = repositories.repository_id(session, name)
            if repo_id is None:
                return False
            if reference.by_digest:
                found = artifacts.artifact_by_digest(session, repo_id, reference.value)
                if found is None:
                    return False
                artifacts.delete_artifact(session, found)
            elif not artifacts.delete_tag(session, repo_id, reference.value):
                return False
            audit.record(
                session,
                principal,
                "delete",
                "artifact" if reference.by_digest else "tag",
                reference.resource(name),
                project.id,
            )
        events.publish(
            self.db,
            events.ArtifactEvent(
                "delete",
                name,
                reference.value if reference.by_digest else "",
                reference.tag,
                audit.actor(principal),
            ),
        )
        return True
