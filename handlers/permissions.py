"""``/users/current/permissions``."""

from __future__ import annotations

from harbor_api.api import current_context
from harbor_api.services.permissions import current_permissions


def get_current_user_permissions(scope: str | None = None, relative: bool = False):
    return current_permissions(current_context(), scope, bool(relative))
