"""``GET /service/token``: Distribution bearer tokens (Basic credentials optional)."""

from __future__ import annotations

from connexion import request

from harbor_api.api import NO_STORE, current_context
from harbor_api.services.tokens import issue_token


def get_token(
    service: str | None = None,
    scope: str | None = None,
    account=None,
    client_id=None,
    offline_token=None,
):
    """``scope`` may repeat (read raw: its actions hold commas). ``account``, ``client_id``
    and ``offline_token`` are sent by docker; the caller is whoever the Basic credentials
    name (none: anonymous)."""
    scopes = request.query_params.getlist("scope")
    return issue_token(current_context(), scopes), 200, NO_STORE
