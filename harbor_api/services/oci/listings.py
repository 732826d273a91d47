"""What the registry lists: a repository's tags, the catalog, a subject's referrers.

Each call authorises and reads in one short transaction; it blocks (run it in a worker
thread, or inline where the edge knows it writes nothing: see ``v2.offload``)."""

from __future__ import annotations

from typing import Any

from harbor_api.auth.principal import Principal
from harbor_api.db.session import Database
from harbor_api.errors import NameUnknownError
from harbor_api.services.oci import artifacts, repositories, repository_access

PULL = frozenset({"pull"})


class Listings:
    def __init__(self, db: Database) -> None:
        self.db = db

    def tags(
        self,
        principal: Principal,
        name: str,
        limit: int | None,
        last: str | None,
        needed: frozenset[str] = PULL,
    ) -> list[str]:
        """Tags of ``name`` in order, after ``last``: a page of ``limit`` (None: all) and
        one more when there is one (so the caller knows a next page exists)."""
        with self.db.read() as session:
            repository_access.authorize(session, principal, name, needed)
            tags = (
                []
                if limit == 0
                else artifacts.list_tags_by_name(
                    session, name, None if limit is None else limit + 1, last
                )
            )
            # an empty page may also mean no such repository: only then ask
            if not tags and repositories.repository_id(session, name) is None:
                raise NameUnknownError(
                    f"repository name not known to registry: {name}", detail={"name": name}
                )
            return tags

    def catalog(
        self, principal: Principal, limit: int, last: str | None, filtered: bool
    ) -> list[str]:
        """Repository names the caller may list (see ``catalog_viewer``): a page of
        ``limit`` and one more when there is one."""
        with self.db.read() as session:
            viewer = repository_access.catalog_viewer(session, principal, filtered)
            if limit == 0:
                return []
            return repositories.catalog(session, viewer, limit + 1, last)

    def referrers(
        self,
        principal: Principal,
        name: str,
        subject: str,
        artifact_type: str | None,
        needed: frozenset[str] = PULL,
    ) -> list[dict[str, Any]]:
        """Descriptors of the manifests in ``name`` whose subject is ``subject``."""
        with self.db.read() as session:
            repository_access.authorize(session, principal, name, needed)
            repo_id = repositories.repository_id(session, name)
            if repo_id is None:
                return []
            return artifacts.referrers(session, repo_id, subject, artifact_type)
