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
from harbor_api.errors import DeniedError, HarborError, NameUnknownError, UnauthorizedError
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


_ORDER = ("pull", "push", "delete")


def authorize(session: Session, principal: Principal, repository: str,
              actions: frozenset[str]) -> ProjectRef:
    """Return the repository's project, or refuse as Harbor does: 401 UNAUTHORIZED
    ``unauthorized to access repository: <name>, action: <action>`` (anonymous callers, so
    that clients retry with credentials, and callers who see the project but lack the
    action), 404 ``project <name> not found`` (project missing, or private and invisible to
    the caller: the two answers are identical, no existence leak)."""
    project = project_by_name(session, project_of(repository))
    if principal.token_access is not None:
        if token_allows(principal, repository, actions):
            if project is None:  # a token from before the project was deleted
                raise project_unknown(repository)
            return project
        record_denied(session, principal, "repository",
                      f"{repository}:{','.join(sorted(actions))}")
        raise _token_refusal(session, principal, repository, actions, project)
    if project is None:
        if not principal.authenticated:
            raise unauthorized_access(repository, actions)
        raise project_unknown(repository)
    granted = rbac.permissions(session, principal, project)
    missing = frozenset(a for a in actions if _RBAC[a] not in granted)
    if not missing:
        return project
    if not principal.authenticated:
        raise unauthorized_access(repository, missing)
    record_denied(session, principal, "repository", f"{repository}:{','.join(sorted(actions))}",
                  project.id)
    if ("project", "read") not in granted:
        raise project_unknown(repository)
    raise unauthorized_access(repository, missing)


def unauthorized_access(repository: str, actions: frozenset[str],
                        scope_error: bool = False) -> UnauthorizedError:
    """Harbor's refusal (docker prints it; scripts match on it); ``scope_error`` marks a
    valid token lacking the access (the challenge then adds ``error="insufficient_scope"``,
    RFC 6750)."""
    action = next((a for a in _ORDER if a in actions), "pull")
    return UnauthorizedError(f"unauthorized to access repository: {repository}, "
                             f"action: {action}",
                             detail={"error": "insufficient_scope"} if scope_error else None)


def project_unknown(repository: str) -> NameUnknownError:
    """A missing project, or a private one the caller cannot see (the same answer)."""
    name = project_of(repository) or repository
    return NameUnknownError(f"project {name} not found", detail={"name": repository})


def _token_refusal(session: Session, principal: Principal, repository: str,
                   actions: frozenset[str], project: ProjectRef | None) -> HarborError:
    """Why a token does not cover a request: an anonymous token is asked to log in; a
    signed-in one hears that the project does not exist when its subject cannot see it
    (the token service grants nothing there), and Harbor's 401 when its subject lacks the
    action (a refusal no token changes; its challenge carries no ``error=`` parameter, as
    Harbor's, because docker replaces the message with its own generic "denied" text when a
    401 challenge says ``insufficient_scope``). A token merely narrower than its subject's rights
    (a pull token used for a push the subject may make) gets RFC 6750's 403
    ``insufficient_scope``: clients such as oras-py fetch the wider token on a 403 only."""
    granted: set[str] = set()
    for kind, name, allowed in principal.token_access or ():
        if kind == "repository" and name == repository:
            granted.update(allowed)
    missing = frozenset(a for a in actions if a not in granted)
    if not principal.authenticated:
        return unauthorized_access(repository, missing)
    from harbor_api.services.tokens import subject_principal

    held = rbac.permissions(session, subject_principal(session, principal),
                            project) if project is not None else frozenset()
    if ("project", "read") not in held:
        return project_unknown(repository)
    if all(_RBAC[a] in held for a in missing):
        action = next((a for a in _ORDER if a in missing), "pull")
        return DeniedError(f"insufficient scope: the token does not grant {action} on "
                           f"{repository}", detail={"error": "insufficient_scope"})
    return unauthorized_access(repository, missing)


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


def catalog_viewer(session: Session, principal: Principal, filtered: bool) -> Principal:
    """Whose visibility filters ``/v2/_catalog``. As Harbor, the catalog is for system
    administrators: anyone else gets 401 ``unauthorized to list catalog``, unless the
    ``filtered_catalog`` setting (``filtered``) lists it to every signed-in caller, filtered
    to what they can see. A Bearer token must hold ``registry:catalog:*`` and then sees
    what its subject can see."""
    viewer = principal
    if principal.token_access is not None:
        if not covers(principal.token_access, "registry", "catalog", "*"):
            raise _catalog_refusal(principal)
        from harbor_api.services.tokens import subject_principal

        viewer = subject_principal(session, principal)
    if viewer.sysadmin or (filtered and viewer.authenticated):
        return viewer
    raise _catalog_refusal(principal)


def _catalog_refusal(principal: Principal) -> UnauthorizedError:
    scope_error = principal.token_access is not None and principal.authenticated
    return UnauthorizedError("unauthorized to list catalog",
                             detail={"error": "insufficient_scope"} if scope_error else None)
