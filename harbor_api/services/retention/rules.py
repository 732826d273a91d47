"""Harbor's retention rules: checked on the way in, then evaluated over one repository.

A policy's rules combine with ``or``: an artifact stays when any enabled rule whose
repository selectors match retains it; every other artifact of a matched repository goes.
A rule selects with its tag selectors (all of them, in turn), then its template keeps some
of the selection (``latestPushedK`` the K most recently pushed, ``nDaysSinceLastPull``
those pulled within N days, ``always`` all, ``nothing`` none, ...). Untagged artifacts are
selected only by tag selectors whose ``extras`` say ``{"untagged": true}``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from harbor_api.adapters.patterns import compile_glob
from harbor_api.errors import BadRequestError

MAX_RULES = 15  # Harbor's limit
INT_MAX = 2147483647
# template → (parameter key, unit); None: the template takes no parameter
TEMPLATES: dict[str, tuple[str, str] | None] = {
    "latestPushedK": ("latestPushedK", "count"),
    "latestPulledN": ("latestPulledN", "count"),
    "nDaysSinceLastPush": ("nDaysSinceLastPush", "days"),
    "nDaysSinceLastPull": ("nDaysSinceLastPull", "days"),
    "always": None,
    "nothing": None,
}
_DISPLAY = {
    "latestPushedK": "the most recently pushed # artifacts",
    "latestPulledN": "the most recently pulled # artifacts",
    "nDaysSinceLastPush": "pushed within the last # days",
    "nDaysSinceLastPull": "pulled within the last # days",
    "always": "always",
}
TAG_DECORATIONS = ("matches", "excludes")
REPO_DECORATIONS = ("repoMatches", "repoExcludes")
KIND = "doublestar"


def metadata() -> dict[str, Any]:
    """Harbor's ``RetentionMetadata`` (``nothing`` is accepted but, as in Harbor, not listed)."""
    templates = []
    for name, text in _DISPLAY.items():
        param = TEMPLATES[name]
        templates.append(
            {
                "rule_template": name,
                "display_text": text,
                "action": "retain",
                "params": [{"type": "int", "unit": param[1], "required": True}] if param else [],
            }
        )
    return {
        "templates": templates,
        "scope_selectors": [
            {"display_text": "Repositories", "kind": KIND, "decorations": list(REPO_DECORATIONS)}
        ],
        "tag_selectors": [
            {"display_text": "Tags", "kind": KIND, "decorations": list(TAG_DECORATIONS)}
        ],
    }


@dataclass(frozen=True)
class Selector:
    decoration: str
    pattern: str
    untagged: bool = False

    def selects_repository(self, name: str) -> bool:
        hit = compile_glob(self.pattern).match(name) is not None
        return hit if self.decoration == "repoMatches" else not hit

    def selects_tags(self, tags: tuple[str, ...]) -> bool:
        """Harbor's tag selector: ``matches`` when any tag matches, ``excludes`` when any
        tag does not; an untagged artifact only with ``untagged``."""
        if not tags:
            return self.untagged
        regex = compile_glob(self.pattern)
        if self.decoration == "matches":
            return any(regex.match(t) for t in tags)
        return any(not regex.match(t) for t in tags)


@dataclass(frozen=True)
class Rule:
    template: str
    param: int
    tag_selectors: tuple[Selector, ...]
    repo_selectors: tuple[Selector, ...]
    disabled: bool = False

    def applies_to(self, repository: str) -> bool:
        """Repository selectors match the name inside the project (``a/b`` of ``p/a/b``)."""
        return not self.disabled and all(
            s.selects_repository(repository) for s in self.repo_selectors
        )


@dataclass(frozen=True)
class Candidate:
    """A top-level artifact of a repository as the rules see it."""

    artifact_id: int
    digest: str
    tags: tuple[str, ...]
    push_time: dt.datetime
    pull_time: dt.datetime | None


def parse_rules(raw: Any) -> list[dict[str, Any]]:
    """The rules of a request body, checked and normalised (what is stored and shown)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise BadRequestError("rules must be a list")
    if len(raw) > MAX_RULES:
        raise BadRequestError(f"a retention policy has at most {MAX_RULES} rules")
    return [_parse_rule(n, item) for n, item in enumerate(raw, start=1)]


def _parse_rule(n: int, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise BadRequestError(f"rule {n} must be an object")
    template = item.get("template")
    if template not in TEMPLATES:
        raise BadRequestError(
            f"rule {n}: unknown template {template!r}; one of {', '.join(TEMPLATES)}"
        )
    action = item.get("action") or "retain"
    if action != "retain":
        raise BadRequestError(f"rule {n}: the only action is retain, not {action!r}")
    params = item.get("params") or {}
    if not isinstance(params, dict):
        raise BadRequestError(f"rule {n}: params must be an object")
    spec = TEMPLATES[template]
    out_params: dict[str, Any] = {}
    if spec is not None:
        value = params.get(spec[0])
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= INT_MAX:
            raise BadRequestError(
                f"rule {n}: {template} needs params.{spec[0]}, a whole number 0 to {INT_MAX}"
            )
        out_params[spec[0]] = value
    tag_selectors = [
        _parse_selector(n, s, TAG_DECORATIONS) for s in _list(n, item, "tag_selectors")
    ]
    if not tag_selectors:
        raise BadRequestError(f"rule {n}: at least one tag selector is required")
    scope = item.get("scope_selectors")
    if not isinstance(scope, dict) or set(scope) != {"repository"}:
        raise BadRequestError(f'rule {n}: scope_selectors must be {{"repository": [...]}}')
    repo_selectors = [
        _parse_selector(n, s, REPO_DECORATIONS) for s in _list(n, scope, "repository")
    ]
    if not repo_selectors:
        raise BadRequestError(f"rule {n}: at least one repository selector is required")
    return {
        "id": n,
        "priority": item.get("priority") if isinstance(item.get("priority"), int) else 0,
        "disabled": bool(item.get("disabled")),
        "action": "retain",
        "template": template,
        "params": out_params,
        "tag_selectors": tag_selectors,
        "scope_selectors": {"repository": repo_selectors},
    }


def _list(n: int, container: dict[str, Any], key: str) -> list[Any]:
    value = container.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRequestError(f"rule {n}: {key} must be a list")
    return value


def _parse_selector(n: int, raw: Any, decorations: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise BadRequestError(f"rule {n}: a selector must be an object")
    kind = raw.get("kind") or KIND
    if kind != KIND:
        raise BadRequestError(f"rule {n}: selector kind must be {KIND}, not {kind!r}")
    decoration = raw.get("decoration")
    if decoration not in decorations:
        raise BadRequestError(
            f"rule {n}: selector decoration must be {' or '.join(decorations)}, not {decoration!r}"
        )
    pattern = raw.get("pattern")
    if not isinstance(pattern, str) or not pattern:
        raise BadRequestError(f"rule {n}: a selector needs a pattern (e.g. **)")
    compile_glob(pattern)
    extras = raw.get("extras") or ""
    if extras:
        try:
            parsed = json.loads(extras) if isinstance(extras, str) else None
        except ValueError:
            parsed = None
        if (
            not isinstance(parsed, dict)
            or set(parsed) - {"untagged"}
            or not isinstance(parsed.get("untagged", False), bool)
        ):
            raise BadRequestError(
                f'rule {n}: selector extras must be JSON like {{"untagged": true}}'
            )
        extras = json.dumps({"untagged": parsed.get("untagged", False)})
    return {"kind": KIND, "decoration": decoration, "pattern": pattern, "extras": extras}


def compile_rules(stored: Iterable[dict[str, Any]]) -> list[Rule]:
    rules = []
    for item in stored:
        spec = TEMPLATES[item["template"]]
        rules.append(
            Rule(
                template=item["template"],
                param=int(item["params"].get(spec[0], 0)) if spec else 0,
                tag_selectors=tuple(_selector(s) for s in item["tag_selectors"]),
                repo_selectors=tuple(_selector(s) for s in item["scope_selectors"]["repository"]),
                disabled=bool(item.get("disabled")),
            )
        )
    return rules


def _selector(raw: dict[str, Any]) -> Selector:
    extras = json.loads(raw["extras"]) if raw.get("extras") else {}
    return Selector(raw["decoration"], raw["pattern"], bool(extras.get("untagged")))


def retained_by(rule: Rule, candidates: list[Candidate], now: dt.datetime) -> set[int]:
    """The artifact ids one rule keeps."""
    selected = [c for c in candidates if all(s.selects_tags(c.tags) for s in rule.tag_selectors)]
    if rule.template == "always":
        return {c.artifact_id for c in selected}
    if rule.template == "nothing":
        return set()
    if rule.template == "latestPushedK":
        ranked = sorted(selected, key=lambda c: (c.push_time, c.artifact_id), reverse=True)
        return {c.artifact_id for c in ranked[: rule.param]}
    if rule.template == "latestPulledN":
        pulled = [c for c in selected if c.pull_time is not None]
        ranked = sorted(pulled, key=lambda c: (c.pull_time, c.artifact_id), reverse=True)
        return {c.artifact_id for c in ranked[: rule.param]}
    horizon = now - dt.timedelta(days=rule.param)
    if rule.template == "nDaysSinceLastPush":
        return {c.artifact_id for c in selected if c.push_time >= horizon}
    return {c.artifact_id for c in selected if c.pull_time is not None and c.pull_time >= horizon}


def evaluate(
    rules: list[Rule], repository: str, candidates: list[Candidate], now: dt.datetime
) -> set[int]:
    """What stays in one repository (``or`` of the rules that apply to it)."""
    kept: set[int] = set()
    for rule in rules:
        if rule.applies_to(repository):
            kept |= retained_by(rule, candidates, now)
    return kept
