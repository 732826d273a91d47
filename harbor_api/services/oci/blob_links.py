"""Whether a blob is visible in a repository, and taking it out of one.

A blob's bytes are stored once; a repository sees it through a link (``repository_blobs``).
Uploads and mounts create links (``upload_sessions``); pulls read them; a blob DELETE
removes one (the bytes stay for garbage collection)."""

from __future__ import annotations

from harbor_api.auth.principal import Principal
from harbor_api.db.session import Database
from harbor_api.services.oci import quota_checks, repositories, repository_access

PULL = frozenset({"pull"})
DELETE = frozenset({"delete"})


class BlobLinks:
    def __init__(self, db: Database) -> None:
        self.db = db

    def linked_size(
        self, principal: Principal, name: str, digest: str, needed: frozenset[str] = PULL
    ) -> int | None:
        """The size of ``digest`` when the caller may pull it from ``name`` (None: not
        linked there)."""
        with self.db.read() as session:
            repository_access.authorize(session, principal, name, needed)
            return repositories.linked_blob_size(session, name, digest)

    def unlink(
        self, principal: Principal, name: str, digest: str, needed: frozenset[str] = DELETE
    ) -> bool:
        """Remove the link of ``digest`` from ``name``; False when there was none."""
        with self.db.transaction() as session:
            project = repository_access.authorize(session, principal, name, needed)
            if not repositories.unlink_blob(session, name, digest):
                return False
            quota_checks.recount(session, project.id)  # the bytes leave the project's usage
            return True
