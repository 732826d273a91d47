"""All models, imported here so that ``Base.metadata`` knows every table."""

from harbor_api.db.models.audit import AuditChainCheckpoint, AuditChainHead, AuditLog
from harbor_api.db.models.identity import Session as LoginSession
from harbor_api.db.models.identity import User, UserGroup
from harbor_api.db.models.immutability import ImmutableRule
from harbor_api.db.models.jobs import Execution, JobQueueState, JobWorker, Schedule, Task
from harbor_api.db.models.labels import ArtifactLabel, Label
from harbor_api.db.models.ldap import LdapMembership
from harbor_api.db.models.login_failures import LoginFailure
from harbor_api.db.models.projects import (
    ConfigEntry,
    CVEAllowlist,
    Project,
    ProjectMember,
    ProjectMetadata,
    Repository,
)
from harbor_api.db.models.quotas import ArtifactBlob, Quota
from harbor_api.db.models.registries import RegistryEndpoint
from harbor_api.db.models.registry import (
    Artifact,
    ArtifactReference,
    Blob,
    RepositoryBlob,
    Tag,
    Upload,
)
from harbor_api.db.models.replication import ReplicationPolicy, ReplicationTaskProgress
from harbor_api.db.models.retention import RetentionPolicy, RetentionTaskResult
from harbor_api.db.models.robots import Robot
from harbor_api.db.models.webhooks import WebhookPolicy

__all__ = [
    "Artifact",
    "ArtifactBlob",
    "ArtifactLabel",
    "ArtifactReference",
    "AuditChainCheckpoint",
    "AuditChainHead",
    "AuditLog",
    "Blob",
    "ConfigEntry",
    "CVEAllowlist",
    "Execution",
    "ImmutableRule",
    "JobQueueState",
    "JobWorker",
    "Schedule",
    "Task",
    "Label",
    "LdapMembership",
    "LoginFailure",
    "LoginSession",
    "Project",
    "ProjectMember",
    "ProjectMetadata",
    "Quota",
    "RegistryEndpoint",
    "ReplicationPolicy",
    "ReplicationTaskProgress",
    "Repository",
    "RetentionPolicy",
    "RetentionTaskResult",
    "RepositoryBlob",
    "Robot",
    "Tag",
    "Upload",
    "User",
    "UserGroup",
    "WebhookPolicy",
]
