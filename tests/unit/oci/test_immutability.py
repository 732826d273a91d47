"""Immutable tag rules in-process: how a rule matches (doublestar globs, matches/excludes,
the repository without its project), what the checks refuse, the statements they cost (none
on a pull or a push of a new tag) and ``protected_tags`` for retention."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from harbor_api.db.models import ImmutableRule, Project
from harbor_api.errors import BadRequestError, ImmutableTagError, PreconditionFailedError
from harbor_api.services import immutability
from harbor_api.services.immutability import Selectors
from harbor_api.services.immutable_rules import parse_selectors
from harbor_api.services.oci.manifests import Manifests, parse_reference
from tests.unit.oci.conftest import ADMIN, Core
from tests.unit.oci.test_manifest_rules import NAME, _image


def sel(tags="**", repos="**", tag_decoration="matches", repo_decoration="repoMatches"):
    return Selectors(repo_decoration, repos, tag_decoration, tags)


@pytest.mark.parametrize(
    ("rule", "repository", "tag", "protected"),
    [
        (sel(), "library/app", "latest", True),
        (sel(tags="v*"), "library/app", "v1.2", True),
        (sel(tags="v*"), "library/app", "latest", False),
        (sel(tags="v*", tag_decoration="excludes"), "library/app", "latest", True),
        (sel(tags="v*", tag_decoration="excludes"), "library/app", "v1", False),
        (sel(repos="app"), "library/app", "x", True),  # matched without the project
        (sel(repos="library/app"), "library/app", "x", False),
        (sel(repos="team/*"), "library/team/a", "x", True),
        (sel(repos="team/*"), "library/team/a/b", "x", False),  # * is one segment
        (sel(repos="team/**"), "library/team/a/b", "x", True),
        (sel(repos="team/**", repo_decoration="repoExcludes"), "library/team/a", "x", False),
        (sel(repos="team/**", repo_decoration="repoExcludes"), "library/web", "x", True),
        (sel(tags="{1.0,2.0}"), "library/app", "2.0", True),
        (sel(tags="{1.0,2.0}"), "library/app", "3.0", False),
        (sel(tags="1.?"), "library/app", "1.5", True),
        (sel(tags="[0-9]*"), "library/app", "latest", False),
    ],
)
def test_a_rule_matches_repository_and_tag(rule, repository, tag, protected):
    assert immutability.is_protected([rule], repository, tag) is protected


def test_no_rule_protects_nothing():
    assert not immutability.is_protected([], "library/app", "latest")


def test_selectors_are_validated_as_harbor_does():
    body = {
        "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "v*"}],
        "scope_selectors": {
            "repository": [{"kind": "doublestar", "decoration": "repoMatches", "pattern": "**"}]
        },
    }
    assert parse_selectors(body) == sel(tags="v*")
    for broken in (
        {**body, "tag_selectors": body["tag_selectors"] * 2},
        {**body, "scope_selectors": {"repo": body["scope_selectors"]["repository"]}},
        {**body, "tag_selectors": [{"decoration": "matches", "pattern": "[z-a]"}]},
        {**body, "tag_selectors": [{"decoration": "matches"}]},
    ):
        with pytest.raises(BadRequestError):
            parse_selectors(broken)


def test_the_refusal_is_harbors_precondition():
    assert issubclass(ImmutableTagError, PreconditionFailedError)
    assert ImmutableTagError().status == 412 and ImmutableTagError.code == "PRECONDITION"


# --- against the database ------------------------------------------------------------------


@pytest.fixture()
def manifests(core: Core) -> Manifests:
    return Manifests(core.db, core.blobs)


def _add_rule(core: Core, disabled: bool = False, **selectors) -> None:
    s_ = sel(**selectors)
    with core.db.transaction() as s:
        project_id = s.scalar(select(Project.id).where(Project.name == "library"))
        s.add(
            ImmutableRule(
                project_id=project_id,
                disabled=disabled,
                repo_decoration=s_.repo_decoration,
                repo_pattern=s_.repo_pattern,
                tag_decoration=s_.tag_decoration,
                tag_pattern=s_.tag_pattern,
                selector_key=repr(s_),
            )
        )


class Statements:
    """Counts the SQL statements that name the rules table."""

    def __init__(self, core: Core) -> None:
        self.seen: list[str] = []
        event.listen(core.db.engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, *args) -> None:
        if "immutable_rules" in statement:
            self.seen.append(statement)


def _put(manifests: Manifests, reference: str, body: bytes):
    return manifests.put(
        ADMIN, NAME, parse_reference(reference), body, "application/vnd.oci.image.manifest.v1+json"
    )


def test_moves_and_deletes_are_refused_and_pulls_cost_nothing(core: Core, manifests: Manifests):
    _add_rule(core, tags="v*")
    one, two = _image(core, b"one"), _image(core, b"two")
    statements = Statements(core)
    first = _put(manifests, "v1", one)  # a new tag: no rule is read
    _put(manifests, "latest", one)
    assert manifests.load(ADMIN, NAME, parse_reference("v1"), with_body=True) is not None
    assert statements.seen == []
    _put(manifests, "v1", one)  # the same digest again: allowed, still nothing read
    assert statements.seen == []
    with pytest.raises(ImmutableTagError, match="'app:v1' configured as immutable"):
        _put(manifests, "v1", two)
    assert len(statements.seen) == 1  # one query for the move
    _put(manifests, "latest", two)  # an unprotected tag moves (one query to learn that)
    with pytest.raises(ImmutableTagError, match="the tag v1 configured as immutable"):
        manifests.delete(ADMIN, NAME, parse_reference("v1"))
    with pytest.raises(ImmutableTagError):
        manifests.delete(ADMIN, NAME, parse_reference(first.digest))
    loaded = manifests.load(ADMIN, NAME, parse_reference("v1"), with_body=False)
    assert loaded is not None and loaded.ref.digest == first.digest  # nothing changed


def test_a_disabled_rule_protects_nothing(core: Core, manifests: Manifests):
    _add_rule(core, disabled=True)
    _put(manifests, "v1", _image(core, b"one"))
    _put(manifests, "v1", _image(core, b"two"))
    assert manifests.delete(ADMIN, NAME, parse_reference("v1"))


def test_protected_tags_for_retention(core: Core, manifests: Manifests):
    for tag in ("v1", "v2", "latest", "dev"):
        _put(manifests, tag, _image(core, tag.encode()))
    with core.db.read() as s:
        project_id = s.scalar(select(Project.id).where(Project.name == "library"))
        assert immutability.protected_tags(s, project_id, NAME) == set()
    _add_rule(core, tags="v*")
    _add_rule(core, tags="latest", repos="other/**")
    with core.db.read() as s:
        assert immutability.protected_tags(s, project_id, NAME) == {"v1", "v2"}
        assert immutability.protected_tags(s, project_id, NAME, ["v2", "dev"]) == {"v2"}
        assert immutability.protected_tags(s, project_id, "library/missing") == set()
