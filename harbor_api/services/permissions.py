"""``/users/current/permissions``: the caller's permissions, from the rules that enforce them."""

from __future__ import annotations

import re

from harbor_api.auth import rbac
from harbor_api.db.models import Project
from harbor_api.errors import BadRequestError
from harbor_api.services.context import RequestContext

_PROJECT_SCOPE = re.compile(r"^/project/(\d{1,9})$")  # ids fit every backend's integer


def current_permissions(ctx: RequestContext, scope: str | None, relative: bool) -> list[dict]:
    scope = (scope or "").rstrip("/")
    if not scope:  # as Harbor: no scope, nothing to list
        return []
    principal = ctx.principal
    if scope == "/system":
        granted = rbac.system_permissions(principal)
    else:
        match = _PROJECT_SCOPE.match(scope)
        if not match:
            raise BadRequestError("scope must be /system or /project/<id>")
        with ctx.db.read() as s:
            project = s.get(Project, int(match.group(1)))
            granted = rbac.permissions(s, principal, project) if project else frozenset()
            if ("project", "read") not in granted:
                granted = frozenset()  # an invisible project: nothing, no existence leak
    prefix = "" if relative else scope + "/"
    return [
        {"resource": prefix + resource, "action": action} for resource, action in sorted(granted)
    ]
