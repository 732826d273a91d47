"""Which tags are immutable, and the refusals that follow (Harbor's tag immutability).

A tag is immutable when an enabled rule of its project matches it: the rule's repository
selector (``repoMatches`` / ``repoExcludes``) matches the repository's name without the
project (``library/a/b`` is ``a/b``, as Harbor matches it) and its tag selector
(``matches`` / ``excludes``) the tag, both doublestar globs (``adapters.patterns``).

An immutable tag cannot be moved to another digest (a manifest put or an artifact copy),
deleted, or lose its artifact (an artifact or repository delete); putting the digest it
already names again is allowed. Every check is one set-based query, run only on the writes
that could change an existing tag: a pull, or a push of a new tag, queries nothing here.
The ``/v2`` edge and the API render the refusal as Harbor does: 412 ``PRECONDITION``.

Retention (and anything else that removes tags in bulk) asks :func:`protected_tags` first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from harbor_api.adapters.patterns import compile_glob
from harbor_api.db.models import ImmutableRule, Repository, Tag
from harbor_api.errors import ImmutableTagError

REPO_DECORATIONS = ("repoMatches", "repoExcludes")
TAG_DECORATIONS = ("matches", "excludes")


@dataclass(frozen=True)
class Selectors:
    """What a rule matches: its repository and tag selectors."""

    repo_decoration: str
    repo_pattern: str
    tag_decoration: str
    tag_pattern: str

    def protects(self, repository: str, tag: str) -> bool:
        """Whether the rule makes ``tag`` of ``repository`` (name without project) immutable."""
        repo_hit = compile_glob(self.repo_pattern).match(repository) is not None
        tag_hit = compile_glob(self.tag_pattern).match(tag) is not None
        return repo_hit == (self.repo_decoration == "repoMatches") and tag_hit == (
            self.tag_decoration == "matches"
        )


_SELECTOR_COLUMNS = (
    ImmutableRule.repo_decoration,
    ImmutableRule.repo_pattern,
    ImmutableRule.tag_decoration,
    ImmutableRule.tag_pattern,
)


def short_name(repository: str) -> str:
    """The repository name as rules match it: without its project."""
    return repository.split("/", 1)[1] if "/" in repository else repository


def is_protected(rules: Iterable[Selectors], repository: str, tag: str) -> bool:
    short = short_name(repository)
    return any(rule.protects(short, tag) for rule in rules)


def _enabled(stmt: Select[Any]) -> Select[Any]:
    return stmt.where(ImmutableRule.disabled.is_(False))


def enabled_rules(session: Session, project_id: int) -> list[Selectors]:
    """The project's enabled rules (one query)."""
    rows = session.execute(
        select(*_SELECTOR_COLUMNS).where(
            ImmutableRule.project_id == project_id, ImmutableRule.disabled.is_(False)
        )
    )
    return [Selectors(*row) for row in rows]


def _rules_of_repository(session: Session, repo_id: int) -> tuple[str, list[Selectors]]:
    """(repository name, enabled rules of its project) in one query; no rules: ("", [])."""
    rows = session.execute(
        _enabled(
            select(Repository.name, *_SELECTOR_COLUMNS)
            .join(ImmutableRule, ImmutableRule.project_id == Repository.project_id)
            .where(Repository.id == repo_id)
        )
    ).all()
    return (rows[0][0] if rows else ""), [Selectors(*row[1:]) for row in rows]


def protected_tags(
    session: Session, project_id: int, repository: str, tags: Iterable[str] | None = None
) -> set[str]:
    """The tags of ``repository`` (its full name, ``project/...``) that enabled rules make
    immutable; limited to ``tags`` when given. One query for the rules and, when there are
    any and ``tags`` is not given, one for the repository's tags. For retention: never
    delete these."""
    rules = enabled_rules(session, project_id)
    if not rules:
        return set()
    if tags is None:
        tags = session.scalars(
            select(Tag.name)
            .join(Repository, Repository.id == Tag.repository_id)
            .where(Repository.name == repository, Repository.project_id == project_id)
        )
    return {tag for tag in tags if is_protected(rules, repository, tag)}


def check_tag_change(session: Session, repo_id: int, tag: str) -> None:
    """Refuse moving ``tag`` to another digest (the caller knows it would move)."""
    name, rules = _rules_of_repository(session, repo_id)
    if rules and is_protected(rules, name, tag):
        raise ImmutableTagError(
            f"Failed to process request due to '{short_name(name)}:{tag}' configured as immutable."
        )


def check_tag_delete(session: Session, repo_id: int, tag: str) -> None:
    """Refuse deleting ``tag`` of the repository when it is immutable."""
    name, rules = _rules_of_repository(session, repo_id)
    if rules and is_protected(rules, name, tag):
        raise _cannot_delete(tag)


def check_artifact_delete(session: Session, artifact_id: int) -> None:
    """Refuse deleting an artifact while one of its tags is immutable (one query: its tags
    joined with its project's enabled rules; no rule or no tag, no row)."""
    rows = session.execute(
        _enabled(
            select(Tag.name, Repository.name, *_SELECTOR_COLUMNS)
            .join(Repository, Repository.id == Tag.repository_id)
            .join(ImmutableRule, ImmutableRule.project_id == Repository.project_id)
            .where(Tag.artifact_id == artifact_id)
        ).order_by(Tag.name)
    )
    for tag, repository, *selectors in rows:
        if Selectors(*selectors).protects(short_name(repository), tag):
            raise _cannot_delete(tag)


def immutable_among(session: Session, artifact_ids: list[int]) -> dict[int, str]:
    """{artifact id: its first immutable tag} for those of ``artifact_ids`` that
    :func:`check_artifact_delete` would refuse (one query for all of them)."""
    if not artifact_ids:
        return {}
    found: dict[int, str] = {}
    rows = session.execute(
        _enabled(
            select(Tag.artifact_id, Tag.name, Repository.name, *_SELECTOR_COLUMNS)
            .join(Repository, Repository.id == Tag.repository_id)
            .join(ImmutableRule, ImmutableRule.project_id == Repository.project_id)
            .where(Tag.artifact_id.in_(artifact_ids))
        ).order_by(Tag.artifact_id, Tag.name)
    )
    for artifact_id, tag, repository, *selectors in rows:
        if artifact_id not in found and Selectors(*selectors).protects(short_name(repository), tag):
            found[artifact_id] = tag
    return found


def cannot_delete_message(tag: str) -> str:
    return _cannot_delete(tag).message


def check_repository_delete(session: Session, project_id: int, repository: str) -> None:
    """Refuse deleting a repository that holds an immutable tag."""
    protected = protected_tags(session, project_id, repository)
    if protected:
        raise _cannot_delete(sorted(protected)[0])


def _cannot_delete(tag: str) -> ImmutableTagError:
    return ImmutableTagError(f"the tag {tag} configured as immutable, cannot be deleted")
