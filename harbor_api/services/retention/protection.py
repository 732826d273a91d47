"""Artifacts retention must never delete, whatever its rules say: the hook tag immutability
plugs into.

TODO(immut): the immutable tag rules (branch ``immut``, ``/projects/{p}/immutabletagrules``)
register a check here, e.g. ``@protection.register`` over a function that returns the ids of
the artifacts of ``repository_id`` carrying an immutable tag. Until then nothing registers
and nothing is protected. A protected artifact is kept and logged ``IMMUTABLE``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy.orm import Session

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
