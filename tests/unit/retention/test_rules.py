"""The retention rules in-process: selectors (matches/excludes, untagged, repository
globs), every template, and the ``or`` of rules."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from harbor_api.errors import BadRequestError
from harbor_api.services.retention.rules import Candidate, compile_rules, evaluate, parse_rules

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def _c(n: int, tags: tuple[str, ...], pushed_days_ago: int, pulled_days_ago: int | None = None):
    return Candidate(
        n,
        f"sha256:{n:064x}",
        tags,
        NOW - dt.timedelta(days=pushed_days_ago),
        None if pulled_days_ago is None else NOW - dt.timedelta(days=pulled_days_ago),
    )


CANDIDATES = [
    _c(1, ("v1",), 30, 1),
    _c(2, ("v2", "stable"), 20, None),
    _c(3, ("v3",), 10, 5),
    _c(4, ("dev",), 2, 40),
    _c(5, (), 1, None),
]


def _rule(template, param=None, tags="**", repo="**", decoration="matches", untagged=False):
    return {
        "template": template,
        "params": {template: param} if param is not None else {},
        "tag_selectors": [
            {
                "kind": "doublestar",
                "decoration": decoration,
                "pattern": tags,
                "extras": json.dumps({"untagged": untagged}),
            }
        ],
        "scope_selectors": {
            "repository": [{"kind": "doublestar", "decoration": "repoMatches", "pattern": repo}]
        },
    }


def _kept(*rules, repository="app"):
    return evaluate(compile_rules(parse_rules(list(rules))), repository, CANDIDATES, NOW)


@pytest.mark.parametrize(
    ("rule", "kept"),
    [
        (_rule("latestPushedK", 2), {3, 4}),
        (_rule("latestPushedK", 2, untagged=True), {4, 5}),
        (_rule("latestPushedK", 0), set()),
        (_rule("latestPulledN", 2), {1, 3}),
        (_rule("nDaysSinceLastPush", 15), {3, 4}),
        (_rule("nDaysSinceLastPull", 10), {1, 3}),
        (_rule("always"), {1, 2, 3, 4}),
        (_rule("always", untagged=True), {1, 2, 3, 4, 5}),
        (_rule("nothing"), set()),
        (_rule("always", tags="v*"), {1, 2, 3}),
        (_rule("always", tags="v*", decoration="excludes"), {2, 4}),
        (_rule("always", tags="{stable,dev}"), {2, 4}),
    ],
)
def test_templates_and_tag_selectors(rule, kept):
    assert _kept(rule) == kept


def test_rules_combine_with_or_and_apply_by_repository():
    assert _kept(_rule("latestPushedK", 1, tags="v*"), _rule("always", tags="dev")) == {3, 4}
    assert _kept(_rule("always", repo="keep/**")) == set()  # the rule does not apply here
    assert _kept(_rule("always", repo="keep/**"), repository="keep/db/x") == {1, 2, 3, 4}
    excluded = _rule("always")
    excluded["scope_selectors"]["repository"][0].update(decoration="repoExcludes", pattern="app")
    assert _kept(excluded) == set() and _kept(excluded, repository="other") == {1, 2, 3, 4}
    disabled = dict(_rule("always"), disabled=True)
    assert _kept(disabled) == set()


@pytest.mark.parametrize(
    "rule",
    [
        _rule("latestK", 1),
        _rule("latestPushedK", True),
        _rule("latestPushedK", 2**31),
        _rule("always", tags=""),
        _rule("always", tags="{a"),
        dict(_rule("always"), scope_selectors={"repository": []}),
        dict(
            _rule("always"),
            tag_selectors=[{"decoration": "matches", "pattern": "*", "extras": "x"}],
        ),
    ],
)
def test_invalid_rules(rule):
    with pytest.raises(BadRequestError):
        parse_rules([rule])


def test_numeric_strings_are_normalised():
    (rule,) = parse_rules([_rule("latestPushedK", "3")])
    assert rule["params"] == {"latestPushedK": 3} and rule["action"] == "retain"
