"""What webhooks support, in Harbor's words: event types, target (notify) types, payload
formats, the CloudEvents type of each event, and the job types that deliver them."""

from __future__ import annotations

PUSH_ARTIFACT = "PUSH_ARTIFACT"
PULL_ARTIFACT = "PULL_ARTIFACT"
DELETE_ARTIFACT = "DELETE_ARTIFACT"
QUOTA_EXCEED = "QUOTA_EXCEED"
QUOTA_WARNING = "QUOTA_WARNING"
REPLICATION = "REPLICATION"
TAG_RETENTION = "TAG_RETENTION"

#: event type -> CloudEvents ``type`` (Harbor's mapping)
CLOUDEVENTS_TYPES = {
    PUSH_ARTIFACT: "harbor.artifact.pushed",
    PULL_ARTIFACT: "harbor.artifact.pulled",
    DELETE_ARTIFACT: "harbor.artifact.deleted",
    QUOTA_EXCEED: "harbor.quota.exceeded",
    QUOTA_WARNING: "harbor.quota.warned",
    REPLICATION: "harbor.replication.status.changed",
    TAG_RETENTION: "harbor.tag_retention.finished",
}
EVENT_TYPES = tuple(CLOUDEVENTS_TYPES)

HTTP = "http"
SLACK = "slack"
NOTIFY_TYPES = (HTTP, SLACK)
DEFAULT_FORMAT = "Default"
CLOUDEVENTS_FORMAT = "CloudEvents"
PAYLOAD_FORMATS = (DEFAULT_FORMAT, CLOUDEVENTS_FORMAT)

#: the job type (and execution vendor type) delivering to each target type
JOB_TYPES = {HTTP: "WEBHOOK", SLACK: "SLACK"}
VENDOR_TYPES = tuple(JOB_TYPES.values())

#: registry event kind (services/events.py) -> webhook event type
ARTIFACT_EVENTS = {"push": PUSH_ARTIFACT, "pull": PULL_ARTIFACT, "delete": DELETE_ARTIFACT}
