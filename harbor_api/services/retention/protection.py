"""Artifacts retention must never delete, whatever its rules say: the hook tag immutability
plugs into.

A check returns the ids of the artifacts of a repository that must stay; a protected
artifact is kept and logged ``IMMUTABLE``. Registered here: :func:`immutable_artifacts`,
the artifacts carrying a tag an enabled immutable tag rule of the project matches
(``/projects/{p}/immutabletagrules``, :mod:`harbor_api.services.immutability`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy.orm import Session

from harbor_api.services import immutability

#: (session, project id, repository id, repository name, {artifact id: its tags}) → the ids
#: of the artifacts that must stay
ProtectionCheck = Callable[[Session, int, int, str, dict[int, tuple[str, ...]]], Iterable[int]]
CHECKS: list[ProtectionCheck] = []


def register(check: ProtectionCheck) -> ProtectionCheck:
    CHECKS.append(check)
    return check


def protected(
    session: Session,
    project_id: int,
    repository_id: int,
    repository: str,
    tags: dict[int, tuple[str, ...]],
) -> set[int]:
    found: set[int] = set()
    for check in CHECKS:
        found.update(check(session, project_id, repository_id, repository, tags))
    return found


@register
def immutable_artifacts(
    session: Session,
    project_id: int,
    repository_id: int,
    repository: str,
    tags: dict[int, tuple[str, ...]],
) -> set[int]:
    """The artifacts with an immutable tag (one query for the project's enabled rules)."""
    rules = immutability.enabled_rules(session, project_id)
    if not rules:
        return set()
    return {
        artifact_id
        for artifact_id, names in tags.items()
        if any(immutability.is_protected(rules, repository, tag) for tag in names)
    }
