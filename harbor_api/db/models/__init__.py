from harbor_api.db.models.audit import AuditLog  # noqa: F401
"""All models, imported here so that ``Base.metadata`` knows every table."""

from harbor_api.db.models.identity import Session as LoginSession  # noqa: F401
from harbor_api.db.models.identity import User, UserGroup  # noqa: F401
from harbor_api.db.models.projects import (  # noqa: F401
    ConfigEntry,
    Project,
    ProjectMember,
    ProjectMetadata,
    Repository,
)
from harbor_api.db.models.registry import (  # noqa: F401
    Artifact,
    ArtifactReference,
    Blob,
    RepositoryBlob,
    Tag,
    Upload,
)
from harbor_api.db.models.ldap import LdapMembership  # noqa: F401
from harbor_api.db.models.robots import Robot  # noqa: F401
from harbor_api.db.models.labels import ArtifactLabel, Label  # noqa: F401
