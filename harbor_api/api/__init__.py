"""Glue between Connexion and the services: handler resolution, context, paging, errors."""

from harbor_api.api.context import current_context
from harbor_api.api.paging import Page, paged

__all__ = ["Page", "current_context", "paged"]
