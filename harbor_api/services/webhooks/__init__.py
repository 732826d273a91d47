"""Webhooks (Harbor's notification policies): policies per project, the events they follow,
Harbor's payloads, and delivery on the job service. See ``docs/webhooks.md``."""
