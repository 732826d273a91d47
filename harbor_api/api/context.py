"""Access to the per-request :class:`RequestContext` from inside a Connexion handler."""

from __future__ import annotations

from connexion import request

from harbor_api.auth.rbac import require_system
from harbor_api.errors import UnauthorizedError
from harbor_api.services.context import RequestContext


def current_context() -> RequestContext:
    """The context the root ASGI app attached to this request's scope."""
    return request.scope["harbor.ctx"]


def require_authenticated(ctx: RequestContext) -> None:
    if not ctx.principal.authenticated:
        raise UnauthorizedError("unauthorized")


def require_sysadmin(ctx: RequestContext) -> None:
    """System-level operations: the same rule the services apply (``rbac.require_system``)."""
    require_system(ctx.principal)
