"""First-start state: the ``admin`` system administrator and the public ``library`` project,
and a quota row for every project (``library`` had none before quotas existed)."""

from __future__ import annotations

import secrets
import string

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from harbor_api.auth.passwords import hash_password
from harbor_api.db.models import Project, ProjectMember, ProjectMetadata, Quota, User
from harbor_api.db.session import Database
from harbor_api.services.oci import quota_checks

ADMIN = "admin"
UNLIMITED = -1  # library's limit, as in Harbor (storage_per_project's default)
PROJECT_ADMIN_ROLE = 1


def generate_password(length: int = 20) -> str:
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if (
            any(c.islower() for c in candidate)
            and any(c.isupper() for c in candidate)
            and any(c.isdigit() for c in candidate)
        ):
            return candidate


def bootstrap(db: Database, admin_password: str | None) -> str | None:
    """Create what must exist; return the generated admin password if one was generated."""
    generated = None
    with db.transaction() as s:
        admin = s.scalar(select(User).where(User.username == ADMIN))
        if admin is None:
            password = admin_password or generate_password()
            generated = None if admin_password else password
            admin = User(
                username=ADMIN,
                email="admin@example.com",
                realname="system admin",
                comment="system admin",
                sysadmin=True,
                password_hash=hash_password(password),
            )
            s.add(admin)
            s.flush()
        if s.scalar(select(Project).where(Project.name == "library")) is None:
            library = Project(name="library", owner_id=admin.id)
            library.metadata_entries.append(ProjectMetadata(name="public", value="true"))
            s.add(library)
            s.flush()
            s.add(
                ProjectMember(
                    project_id=library.id,
                    entity_id=admin.id,
                    entity_type="u",
                    role=PROJECT_ADMIN_ROLE,
                )
            )
    try:
        with db.transaction() as s:
            unaccounted = s.scalars(
                select(Project.id)
                .outerjoin(Quota, Quota.project_id == Project.id)
                .where(Quota.id.is_(None))
            ).all()
            for project_id in unaccounted:  # usage counted from what the project holds
                quota_checks.create_quota(s, project_id, UNLIMITED)
                s.flush()
                quota_checks.recount(s, project_id)
    except IntegrityError:
        pass  # another node starting at the same moment created them
    return generated
