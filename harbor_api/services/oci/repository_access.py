"""Who may pull, push or delete in a repository: the one authorisation rule of the registry.

The ``/v2`` edge derives the needed actions from the method and route; this module answers
whether a principal holds them, as Harbor does. A Bearer token's principal gets exactly
what its token grants; any other principal what its project role grants. Replication and
other callers without an HTTP request use the same rule.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from harbor_api.auth import rbac
from harbor_api.auth.denials import record_denied
from harbor_api.auth.principal import Principal
from harbor_api.auth.tokens import covers
from harbor_api.errors import DeniedError, HarborError, NameUnknownError, UnauthorizedError
from harbor_api.registry.names import project_of
from harbor_api.services.oci.repositories import ProjectRef, project_by_name
from harbor_api.services.tokens import subject_principal

_RBAC = {
    "pull": ("repository", "pull"),
    "push": ("repository", "push"),
    "delete": ("repository", "delete"),
}
_ORDER = ("pull", "push", "delete")


def authorize(
    session: Session, principal: Principal, repository: str, actions: frozenset[str]
) -> ProjectRef:
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
            return refuse_proxy_push(project, actions)
        record_denied(session, principal, "repository", f"{repository}:{','.join(sorted(actions))}")
        raise _token_refusal(session, principal, repository, actions, project)
    if project is None:
        _as_for_hidden(session, principal, repository, actions)
        if not principal.authenticated:
            raise unauthorized_access(repository, actions)
        raise project_unknown(repository)
    granted = rbac.permissions(session, principal, project)
    missing = frozenset(a for a in actions if _RBAC[a] not in granted)
    if not missing:
        return refuse_proxy_push(project, actions)
    if not principal.authenticated:
        raise unauthorized_access(repository, missing)
    record_denied(
        session, principal, "repository", f"{repository}:{','.join(sorted(actions))}", project.id
    )
    if ("project", "read") not in granted:
        raise project_unknown(repository)
    raise unauthorized_access(repository, missing)


def refuse_proxy_push(project: ProjectRef, actions: frozenset[str]) -> ProjectRef:
    """A proxy-cache project is filled from its upstream only: an authorised push there is
    403 DENIED with Harbor's message (after the credentials were checked, as in Harbor)."""
    if "push" in actions and project.registry_id is not None:
        raise DeniedError(f"can not push artifact to a proxy project: {project.name}")
    return project


def _as_for_hidden(
    session: Session, principal: Principal, repository: str, actions: frozenset[str]
) -> None:
    """The work a refusal in a hidden project does (the role and public reads, then the
    audit record of a signed-in caller), done for a missing one: the two 404s must not
    differ in time either. No project has id 0."""
    rbac.permissions(session, principal, ProjectRef(0, project_of(repository) or ""))
    if principal.authenticated:
        record_denied(session, principal, "repository", f"{repository}:{','.join(sorted(actions))}")


def may(session: Session, principal: Principal, repository: str, actions: frozenset[str]) -> bool:
    """Whether :func:`authorize` would pass (a refusal is still recorded as one)."""
    try:
        authorize(session, principal, repository, actions)
    except HarborError:
        return False
    return True


def unauthorized_access(
    repository: str, actions: frozenset[str], scope_error: bool = False
) -> UnauthorizedError:
    """Harbor's refusal (docker prints it; scripts match on it); ``scope_error`` marks a
    valid token lacking the access (the challenge then adds ``error="insufficient_scope"``,
    RFC 6750)."""
    action = next((a for a in _ORDER if a in actions), "pull")
    return UnauthorizedError(
        f"unauthorized to access repository: {repository}, action: {action}",
        detail={"error": "insufficient_scope"} if scope_error else None,
    )


def project_unknown(repository: str) -> NameUnknownError:
    """A missing project, or a private one the caller cannot see (the same answer)."""
    name = project_of(repository) or repository
    return NameUnknownError(f"project {name} not found", detail={"name": repository})


def _token_refusal(
    session: Session,
    principal: Principal,
    repository: str,
    actions: frozenset[str],
    project: ProjectRef | None,
) -> HarborError:
    """Why a token does not cover a request: an anonymous token is asked to log in; a
    signed-in one hears that the project does not exist when its subject cannot see it
    (the token service grants nothing there), and Harbor's 401 when its subject lacks the
    action (a refusal no token changes; its challenge carries no ``error=`` parameter, as
    Harbor's, because docker replaces the message with its own generic "denied" text when a
    401 challenge says ``insufficient_scope``). A token merely narrower than its subject's rights
    (a pull token used for a push the subject may make) gets RFC 6750's 403
    ``insufficient_scope``: clients such as oras-py fetch the wider token on a 403 only."""
    granted = _token_grant(principal, repository)
    missing = frozenset(a for a in actions if a not in granted)
    if not principal.authenticated:
        return unauthorized_access(repository, missing)
    held = (
        rbac.permissions(session, subject_principal(session, principal), project)
        if project is not None
        else frozenset()
    )
    if ("project", "read") not in held:
        return project_unknown(repository)
    if all(_RBAC[a] in held for a in missing):
        action = next((a for a in _ORDER if a in missing), "pull")
        return DeniedError(
            f"insufficient scope: the token does not grant {action} on {repository}",
            detail={"error": "insufficient_scope"},
        )
    return unauthorized_access(repository, missing)


def _token_grant(principal: Principal, repository: str) -> set[str]:
    granted: set[str] = set()
    for kind, name, allowed in principal.token_access or ():
        if kind == "repository" and name == repository:
            granted.update(allowed)
    return granted


def token_allows(principal: Principal, repository: str, actions: frozenset[str]) -> bool:
    """Whether a Bearer principal's token holds ``actions`` on ``repository`` (no I/O;
    False for other principals). When it does, :func:`authorize` writes nothing."""
    if principal.token_access is None:
        return False
    granted = _token_grant(principal, repository)
    return "*" in granted or actions <= granted


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
        viewer = subject_principal(session, principal)
    if viewer.sysadmin or (filtered and viewer.authenticated):
        return viewer
    raise _catalog_refusal(principal)


def _catalog_refusal(principal: Principal) -> UnauthorizedError:
    scope_error = principal.token_access is not None and principal.authenticated
    return UnauthorizedError(
        "unauthorized to list catalog",
        detail={"error": "insufficient_scope"} if scope_error else None,
    )
