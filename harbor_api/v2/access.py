"""The one authorisation hook of the /v2 edge.

The needed actions follow from the HTTP method (GET/HEAD pull, POST/PUT/PATCH push, DELETE
delete; a mount also needs pull on the source). Credentials were resolved by the root app;
a Bearer token's principal carries its granted ``access`` and gets exactly that. The token
service replaces the challenge by registering ``state.extras["v2.challenge"]``.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from harbor_api.auth import rbac
from harbor_api.auth.denials import record_denied
from harbor_api.auth.principal import Principal
from harbor_api.auth.tokens import covers
from harbor_api.errors import DeniedError, NameUnknownError, UnauthorizedError
from harbor_api.registry.names import is_repository_name, project_of
from harbor_api.services.oci.repositories import ProjectRef, project_by_name

METHOD_ACTIONS = {"GET": "pull", "HEAD": "pull", "POST": "push", "PUT": "push",
                  "PATCH": "push", "DELETE": "delete"}
_RBAC = {"pull": ("repository", "pull"), "push": ("repository", "push"),
         "delete": ("repository", "delete")}
BASIC_CHALLENGE = 'Basic realm="harbor-api"'


_UPLOAD_ENDPOINTS = frozenset({"upload", "upload_start"})


def actions_for(method: str, endpoint: str = "") -> frozenset[str]:
    """What a request needs; every request on an upload URL (a status read and a cancel
    included) needs push."""
    if endpoint in _UPLOAD_ENDPOINTS:
        return frozenset({"push"})
    return frozenset({METHOD_ACTIONS.get(method, "pull")})


def authorize(session: Session, principal: Principal, repository: str,
              actions: frozenset[str]) -> ProjectRef:
    """Return the repository's project, or raise UNAUTHORIZED (anonymous callers, so that
    clients retry with credentials), NAME_UNKNOWN (project missing or invisible: no
    existence leak) or DENIED (visible, but not allowed)."""
    project = project_by_name(session, project_of(repository))
    if principal.token_access is not None:
        try:
            return _authorize_token(principal, repository, actions, project)
        except DeniedError:
            record_denied(session, principal, "repository",
                          f"{repository}:{','.join(sorted(actions))}")
            raise
    if project is None:
        if not principal.authenticated:
            raise UnauthorizedError("authentication required")
        raise NameUnknownError(f"repository name not known to registry: {repository}")
    granted = rbac.permissions(session, principal, project)
    if all(_RBAC[a] in granted for a in actions):
        return project
    if not principal.authenticated:
        raise UnauthorizedError("authentication required")
    record_denied(session, principal, "repository", f"{repository}:{','.join(sorted(actions))}",
                  project.id)
    if ("project", "read") not in granted:
        raise NameUnknownError(f"repository name not known to registry: {repository}")
    raise DeniedError(f"requested access to {repository} is denied")


def token_allows(principal: Principal, repository: str, actions: frozenset[str]) -> bool:
    """Whether a Bearer principal's token holds ``actions`` on ``repository`` (no I/O;
    False for other principals). When it does, :func:`authorize` writes nothing."""
    if principal.token_access is None:
        return False
    granted: set[str] = set()
    for kind, name, allowed in principal.token_access:
        if kind == "repository" and name == repository:
            granted.update(allowed)
    return "*" in granted or actions <= granted


def _authorize_token(principal: Principal, repository: str, actions: frozenset[str],
                     project: ProjectRef | None) -> ProjectRef:
    if not token_allows(principal, repository, actions):
        raise insufficient_scope(principal)
    if project is None:
        raise NameUnknownError(f"repository name not known to registry: {repository}")
    return project


def challenge(state, repository: str | None, actions: frozenset[str], base_url: str = "",
              endpoint: str | None = None, mount_from: str | None = None) -> str:
    """The ``WWW-Authenticate`` value for a 401 on ``repository`` (None: the base route or
    the catalog, named by ``endpoint``); ``base_url`` is what the client used;
    ``mount_from``, a mount's (valid) source repository, is asked for pull as well."""
    hook = state.extras.get("v2.challenge")
    if hook is not None:
        return hook(repository, actions, base_url, endpoint, mount_from)
    return BASIC_CHALLENGE


def mount_source(request, route) -> str | None:
    """The ``from`` of a cross-repository mount request, when it names another valid
    repository (anything else is never echoed into a challenge)."""
    if route is None or route.endpoint != "upload_start" or request.method != "POST":
        return None
    source = request.query.get("from")
    if not request.query.get("mount") or not source or source == route.name:
        return None
    return source if is_repository_name(source) else None


def insufficient_scope(principal: Principal) -> UnauthorizedError | DeniedError:
    """A valid token lacking the needed access: 401 for an anonymous token (log in), else
    403 with a challenge naming the scope (RFC 6750 ``insufficient_scope``), so clients such
    as oras-py fetch a wider token and retry."""
    if not principal.authenticated:
        return UnauthorizedError("insufficient scope")
    return DeniedError("insufficient scope", detail={"error": "insufficient_scope"})


def catalog_viewer(session: Session, principal: Principal) -> Principal:
    """Whose visibility filters ``/v2/_catalog``; a Bearer token must hold
    ``registry:catalog:*`` and then sees what its subject can see."""
    if principal.token_access is None:
        return principal
    if not covers(principal.token_access, "registry", "catalog", "*"):
        raise insufficient_scope(principal)
    from harbor_api.services.tokens import subject_principal

    return subject_principal(session, principal)
