"""Immutable tag rules of a project (``/projects/{p}/immutabletagrules``): list, create,
update (or enable/disable), delete, in Harbor's ``ImmutableRule`` shape. What a rule
enforces lives in :mod:`harbor_api.services.immutability`."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from harbor_api.adapters.patterns import compile_glob
from harbor_api.db.models import ImmutableRule
from harbor_api.errors import BadRequestError, ConflictError, NotFoundError
from harbor_api.services import audit
from harbor_api.services.context import RequestContext
from harbor_api.services.immutability import REPO_DECORATIONS, TAG_DECORATIONS, Selectors
from harbor_api.services.lookup import ProjectNameOrId, authorized_project_ref
from harbor_api.services.query import INT, conditions, order_by, page_and_total, parse_q

RESOURCE = "immutable-tag"
_SORT = {"id": ImmutableRule.id, "priority": ImmutableRule.priority}
_FIELDS = {"id": (ImmutableRule.id, INT), "priority": (ImmutableRule.priority, INT)}


def render(rule: ImmutableRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "priority": rule.priority,
        "disabled": rule.disabled,
        "action": "immutable",
        "template": "immutable_template",
        "params": json.loads(rule.params or "{}"),
        "tag_selectors": [
            {"kind": "doublestar", "decoration": rule.tag_decoration, "pattern": rule.tag_pattern}
        ],
        "scope_selectors": {
            "repository": [
                {
                    "kind": "doublestar",
                    "decoration": rule.repo_decoration,
                    "pattern": rule.repo_pattern,
                }
            ]
        },
    }


def _one(selectors: Any, what: str) -> dict[str, Any]:
    if not isinstance(selectors, list) or len(selectors) != 1:
        raise BadRequestError(f"{what} needs exactly one selector")
    return selectors[0]


def parse_selectors(body: dict[str, Any]) -> Selectors:
    """The body's one tag selector and one repository scope selector, validated as Harbor
    does (doublestar kind, a known decoration, a non-empty pattern that compiles)."""
    tag = _one(body.get("tag_selectors"), "tag_selectors")
    scope = _one((body.get("scope_selectors") or {}).get("repository"), "scope_selectors")
    for selector, decorations in ((tag, TAG_DECORATIONS), (scope, REPO_DECORATIONS)):
        if selector.get("kind", "doublestar") != "doublestar":
            raise BadRequestError("a selector's kind must be doublestar")
        if selector.get("decoration") not in decorations:
            raise BadRequestError(
                f"a selector's decoration must be one of {', '.join(decorations)}"
            )
        if not (selector.get("pattern") or "").strip():
            raise BadRequestError("a selector's pattern must not be empty")
        compile_glob(selector["pattern"])  # a malformed glob is a 400
    return Selectors(scope["decoration"], scope["pattern"], tag["decoration"], tag["pattern"])


def _selector_key(sel: Selectors) -> str:
    text = "\n".join([sel.repo_decoration, sel.repo_pattern, sel.tag_decoration, sel.tag_pattern])
    return hashlib.sha256(text.encode()).hexdigest()


def _apply(rule: ImmutableRule, sel: Selectors) -> None:
    rule.repo_decoration, rule.repo_pattern = sel.repo_decoration, sel.repo_pattern
    rule.tag_decoration, rule.tag_pattern = sel.tag_decoration, sel.tag_pattern
    rule.selector_key = _selector_key(sel)


def _flush_unique(s: Session) -> None:
    try:
        s.flush()
    except IntegrityError:
        raise ConflictError("an immutable tag rule with these selectors already exists") from None


def _resource(project: Any, rule_id: int) -> str:
    return f"{project.name}/immutable-tag-rule/{rule_id}"


def list_rules(
    ctx: RequestContext,
    ref: ProjectNameOrId,
    *,
    q: str | None,
    sort: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    where = conditions(parse_q(q, set(_FIELDS)), _FIELDS)
    order = order_by(sort, _SORT, [ImmutableRule.id.asc()])
    with ctx.db.read() as s:
        project = authorized_project_ref(s, ctx.principal, ref, RESOURCE, "list")
        where.append(ImmutableRule.project_id == project.id)
        rows, total = page_and_total(
            s,
            select(ImmutableRule).where(*where).order_by(*order),
            select(func.count()).select_from(ImmutableRule).where(*where),
            offset,
            limit,
        )
        return [render(r) for r in rows], total


def create(ctx: RequestContext, ref: ProjectNameOrId, body: dict[str, Any]) -> int:
    sel = parse_selectors(body)
    with ctx.db.transaction() as s:
        project = authorized_project_ref(s, ctx.principal, ref, RESOURCE, "create")
        rule = ImmutableRule(
            project_id=project.id,
            priority=body.get("priority") or 0,
            disabled=bool(body.get("disabled")),
            params=json.dumps(body.get("params") or {}),
        )
        _apply(rule, sel)
        s.add(rule)
        _flush_unique(s)
        audit.record(s, ctx.principal, "create", RESOURCE, _resource(project, rule.id), project.id)
        return rule.id


def _rule(s: Session, project: Any, rule_id: int) -> ImmutableRule:
    rule = s.get(ImmutableRule, rule_id)
    if rule is None or rule.project_id != project.id:
        raise NotFoundError(f"immutable tag rule {rule_id} not found in project {project.name}")
    return rule


def update(ctx: RequestContext, ref: ProjectNameOrId, rule_id: int, body: dict[str, Any]) -> None:
    """Harbor's update: a body whose ``disabled`` differs from the rule's only enables or
    disables it; otherwise the selectors given replace the rule's (those left out stay)."""
    if body.get("id") not in (None, 0, rule_id):
        raise BadRequestError("the immutable_rule_id doesn't match the id in the body")
    sel = parse_selectors(body) if "tag_selectors" in body or "scope_selectors" in body else None
    with ctx.db.transaction() as s:
        project = authorized_project_ref(s, ctx.principal, ref, RESOURCE, "update")
        rule = _rule(s, project, rule_id)
        if "disabled" in body and bool(body["disabled"]) != rule.disabled:
            rule.disabled = bool(body["disabled"])
        else:
            if sel is not None:
                _apply(rule, sel)
            if body.get("priority") is not None:
                rule.priority = body["priority"]
            if body.get("params") is not None:
                rule.params = json.dumps(body["params"])
        _flush_unique(s)
        audit.record(s, ctx.principal, "update", RESOURCE, _resource(project, rule.id), project.id)


def delete(ctx: RequestContext, ref: ProjectNameOrId, rule_id: int) -> None:
    with ctx.db.transaction() as s:
        project = authorized_project_ref(s, ctx.principal, ref, RESOURCE, "delete")
        s.delete(_rule(s, project, rule_id))
        audit.record(s, ctx.principal, "delete", RESOURCE, _resource(project, rule_id), project.id)
