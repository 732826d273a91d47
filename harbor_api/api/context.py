"""Access to the per-request :class:`RequestContext` from inside a Connexion handler.

Handlers authorise nothing themselves: the service they call does (``harbor_api.auth.rbac``).
"""

from __future__ import annotations

from connexion import request

from harbor_api.services.context import RequestContext


def current_context() -> RequestContext:
    """The context the root ASGI app attached to this request's scope."""
    ctx: RequestContext = request.scope["harbor.ctx"]
    return ctx
