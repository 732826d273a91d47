"""Glue between Connexion and the services: handler resolution, context, paging, errors."""

from harbor_api.api.context import current_context
from harbor_api.api.paging import Page, paged

__all__ = ["NO_STORE", "Page", "current_context", "paged"]

# Answers carrying a secret (a token, a robot's secret, a session): never kept by a cache
# (RFC 6749 section 5.1; Pragma for HTTP/1.0 caches).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
