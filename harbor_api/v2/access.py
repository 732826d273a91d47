"""The one authorisation table of the /v2 edge.

What a request needs follows from its route and method, derived once per request (by the
dispatcher, into ``request.actions``) and used both by the check (the handler passes it to
``services.oci.repository_access.authorize``) and by the 401 challenge: GET/HEAD pull;
POST/PUT/PATCH push; DELETE delete; every request on an upload URL, a status read and a
cancel included, push; a mount also needs pull on its source (:data:`MOUNT_SOURCE`).
Credentials were resolved by the root app. The token service replaces the challenge through
``state.challenge``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harbor_api.registry.names import is_repository_name

if TYPE_CHECKING:
    from harbor_api.v2.http import Request
    from harbor_api.v2.routes import Route

PULL = frozenset({"pull"})
PUSH = frozenset({"push"})
DELETE = frozenset({"delete"})
#: What a cross-repository mount needs on its source repository (besides push on the target).
MOUNT_SOURCE = PULL

#: (endpoint, method) → the actions a request needs on its repository.
ROUTE_ACTIONS: dict[tuple[str, str], frozenset[str]] = {
    ("blob", "GET"): PULL,
    ("blob", "HEAD"): PULL,
    ("blob", "DELETE"): DELETE,
    ("manifest", "GET"): PULL,
    ("manifest", "HEAD"): PULL,
    ("manifest", "PUT"): PUSH,
    ("manifest", "DELETE"): DELETE,
    ("tags", "GET"): PULL,
    ("referrers", "GET"): PULL,
    ("catalog", "GET"): PULL,  # names no repository: ``catalog_viewer`` decides
    ("upload_start", "POST"): PUSH,
    ("upload", "PATCH"): PUSH,
    ("upload", "PUT"): PUSH,
    ("upload", "GET"): PUSH,
    ("upload", "DELETE"): PUSH,
}
_UPLOAD_ENDPOINTS = frozenset({"upload", "upload_start"})
_METHOD_ACTIONS = {
    "GET": PULL,
    "HEAD": PULL,
    "POST": PUSH,
    "PUT": PUSH,
    "PATCH": PUSH,
    "DELETE": DELETE,
}
BASIC_CHALLENGE = 'Basic realm="harbor-api"'


def needed_actions(endpoint: str, method: str) -> frozenset[str]:
    """What a request needs (a method a route does not serve, e.g. a 405 or a 401 raised
    before routing: what the method would need)."""
    found = ROUTE_ACTIONS.get((endpoint, method))
    if found is not None:
        return found
    if endpoint in _UPLOAD_ENDPOINTS:
        return PUSH
    return _METHOD_ACTIONS.get(method, PULL)


def challenge(
    state: Any,
    repository: str | None,
    actions: frozenset[str],
    base_url: str = "",
    endpoint: str | None = None,
    mount_from: str | None = None,
) -> str:
    """The ``WWW-Authenticate`` value for a 401 on ``repository`` (None: the base route or
    the catalog, named by ``endpoint``); ``base_url`` is what the client used;
    ``mount_from``, a mount's (valid) source repository, is asked for pull as well."""
    hook = state.challenge
    if hook is not None:
        return str(hook(repository, actions, base_url, endpoint, mount_from))
    return BASIC_CHALLENGE


def mount_source(request: Request, route: Route | None) -> str | None:
    """The ``from`` of a cross-repository mount request, when it names another valid
    repository (anything else is never echoed into a challenge)."""
    if route is None or route.endpoint != "upload_start" or request.method != "POST":
        return None
    source = request.query.get("from")
    if not request.query.get("mount") or not source or source == route.name:
        return None
    return source if is_repository_name(source) else None
