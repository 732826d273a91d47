"""Access to the per-request :class:`RequestContext` from inside a Connexion handler."""

from __future__ import annotations

from connexion import request

from harbor_api.errors import ForbiddenError, UnauthorizedError
from harbor_api.services.context import RequestContext


def current_context() -> RequestContext:
    """The context the root ASGI app attached to this request's scope."""
    return request.scope["harbor.ctx"]


def require_authenticated(ctx: RequestContext) -> None:
    if not ctx.principal.authenticated:
        raise UnauthorizedError("authentication required")


def require_sysadmin(ctx: RequestContext) -> None:
    require_authenticated(ctx)
    if not ctx.principal.sysadmin:
        raise ForbiddenError("system administrator role required")
