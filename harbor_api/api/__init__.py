"""Glue between Connexion and the services: handler resolution, context, paging, errors."""

from harbor_api.api.context import current_context, require_authenticated, require_sysadmin
from harbor_api.api.paging import Page, paged

__all__ = ["Page", "current_context", "paged", "require_authenticated", "require_sysadmin"]
