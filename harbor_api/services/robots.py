"""Robot accounts: create (secret shown once), list, read, update, delete, refresh secret.

System robots (covering several projects or ``*``) are managed by system admins; project
robots by whoever holds ``robot:*`` in their project (project admins). Secrets are stored
as salted scrypt hashes only.
"""

from __future__ import annotations

import json
import re
import secrets
import string
import time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from harbor_api.auth import rbac
from harbor_api.auth.passwords import hash_password, meets_policy
from harbor_api.db.base import utcnow
from harbor_api.db.models import Project, Robot
from harbor_api.errors import BadRequestError, ConflictError, ForbiddenError, NotFoundError
from harbor_api.services import audit, configurations
from harbor_api.services.context import RequestContext
from harbor_api.services.formats import iso
from harbor_api.services.lookup import authorized_project_id
from harbor_api.services.paging import Page
from harbor_api.services.query import TEXT, condition, order_by, parse_q

_NAME = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
LEVELS = ("system", "project")
DAY = 86400
# Every (resource, action) a robot may be given: what a project admin can do.
GRANTABLE = rbac.ROLE_PERMISSIONS[rbac.PROJECT_ADMIN]


def prefix(ctx_or_db) -> str:
    db = getattr(ctx_or_db, "db", ctx_or_db)
    return str(configurations.effective(db)["robot_name_prefix"])


def generate_secret(length: int = 32) -> str:
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if meets_policy(candidate):
            return candidate


def to_json(robot: Robot, name_prefix: str) -> dict:
    return {
        "id": robot.id,
        "name": name_prefix + robot.name,
        "description": robot.description,
        "level": robot.level,
        "duration": robot.duration,
        "editable": True,
        "disable": robot.disabled,
        "expires_at": robot.expires_at,
        "permissions": json.loads(robot.permissions or "[]"),
        "creator_type": robot.creator_type,
        "creator_ref": robot.creator_ref,
        "creation_time": _iso(robot.creation_time),
        "update_time": _iso(robot.update_time),
    }


def _iso(value) -> str:
    return iso(value) or ""


# ------------------------------------------------------------------------- validation
def _permissions(
    s: Session, ctx: RequestContext, level: str, raw: Any
) -> tuple[list[dict], Project | None]:
    """Normalised permissions and, for a project robot, its project (authorised)."""
    if not isinstance(raw, list) or not raw:
        raise BadRequestError("permissions must list at least one project permission")
    if level == "project" and len(raw) != 1:
        raise BadRequestError("a project robot has exactly one permission (its project)")
    clean, project = [], None
    for perm in raw:
        if perm.get("kind") != "project":
            raise BadRequestError("permission kind must be 'project'")
        namespace = str(perm.get("namespace") or "")
        access = []
        for item in perm.get("access") or []:
            pair = (str(item.get("resource", "")), str(item.get("action", "")))
            effect = item.get("effect") or "allow"
            if pair not in GRANTABLE or effect not in ("allow", "deny"):
                raise BadRequestError(f"unsupported access {pair[0]}:{pair[1]} ({effect})")
            access.append({"resource": pair[0], "action": pair[1], "effect": effect})
        if not access:
            raise BadRequestError(f"permission for {namespace!r} grants no access")
        if namespace != "*":
            found = s.scalar(select(Project).where(Project.name == namespace))
            if found is None:
                if level == "project":
                    raise NotFoundError(f"project {namespace} not found")
                raise BadRequestError(f"project {namespace} does not exist")
            project = found
        elif level == "project":
            raise BadRequestError("a project robot cannot cover every project ('*')")
        clean.append({"kind": "project", "namespace": namespace, "access": access})
    return clean, project


def _authorise(
    s: Session, ctx: RequestContext, robot_level: str, project: Project | None, action: str
) -> None:
    if robot_level == "project" and project is not None:
        rbac.require(s, ctx.principal, project, "robot", action)
    else:
        rbac.require_system(ctx.principal, "robot", action)


def _within_caller(ctx: RequestContext, perms: list[dict]) -> None:
    """A robot managing robots grants at most what it holds itself (no escalation through a
    robot it creates or edits); users are bounded by :func:`_authorise` already."""
    caller = ctx.principal
    if caller.kind != "robot":
        return
    held = set(caller.robot_access)
    for perm in perms:
        for item in perm["access"]:
            if item["effect"] != "allow":
                continue
            wanted = (perm["namespace"], item["resource"], item["action"])
            if wanted not in held and ("*",) + wanted[1:] not in held:
                raise ForbiddenError(
                    f"a robot cannot grant {wanted[1]}:{wanted[2]} in "
                    f"{wanted[0]}: it does not hold it"
                )


def _expiry(duration: Any, default_days: int, created: float) -> tuple[int, int]:
    if duration is None or duration == 0:
        duration = default_days
    if (
        not isinstance(duration, int)
        or isinstance(duration, bool)
        or (duration < 1 and duration != -1)
    ):
        raise BadRequestError("duration must be a positive number of days or -1 (never)")
    return duration, -1 if duration == -1 else int(created) + duration * DAY


def _secret(value: Any) -> str:
    if value in (None, ""):
        return generate_secret()
    if not isinstance(value, str) or not meets_policy(value):
        raise BadRequestError(
            "secret must be 8-128 characters with an upper case letter, a "
            "lower case letter and a digit"
        )
    return value


# ------------------------------------------------------------------------- operations
def create(ctx: RequestContext, body: dict) -> tuple[dict, str]:
    name, level = str(body.get("name") or ""), body.get("level")
    if level not in LEVELS:
        raise BadRequestError("level must be 'system' or 'project'")
    if not _NAME.match(name) or len(name) > 128:
        raise BadRequestError(
            "name must be lower case letters and digits, optionally separated by '.', '_' or '-'"
        )
    secret = _secret(body.get("secret"))
    cfg = configurations.effective(ctx.db)
    with ctx.db.transaction() as s:
        perms, project = _permissions(s, ctx, level, body.get("permissions"))
        _authorise(s, ctx, level, project, "create")
        _within_caller(ctx, perms)
        stored = f"{project.name}+{name}" if level == "project" and project else name
        if s.scalar(select(Robot.id).where(Robot.name == stored)) is not None:
            raise ConflictError(f"robot {cfg['robot_name_prefix']}{stored} already exists")
        duration, expires = _expiry(
            body.get("duration"), int(cfg["robot_token_duration"]), time.time()
        )
        robot = Robot(
            name=stored,
            description=str(body.get("description") or ""),
            secret_hash=hash_password(secret),
            level=level,
            project_id=project.id if level == "project" and project else None,
            duration=duration,
            expires_at=expires,
            disabled=bool(body.get("disable")),
            permissions=json.dumps(perms),
            creator=ctx.principal.username,
            creator_type="robot" if ctx.principal.kind == "robot" else "local",
            creator_ref=(
                ctx.principal.robot_id if ctx.principal.kind == "robot" else ctx.principal.user_id
            )
            or 0,
        )
        s.add(robot)
        s.flush()
        audit.record(
            s, ctx.principal, "create", "robot", cfg["robot_name_prefix"] + stored, robot.project_id
        )
        created = {
            "id": robot.id,
            "name": cfg["robot_name_prefix"] + stored,
            "secret": secret,
            "creation_time": _iso(robot.creation_time or utcnow()),
            "expires_at": robot.expires_at,
        }
    return created, secret


MAX_ID = 2**31 - 1  # larger ids cannot exist (and PostgreSQL would refuse to compare them)


def _load(s: Session, ctx: RequestContext, robot_id: int, action: str) -> Robot:
    robot = s.get(Robot, robot_id) if 0 < robot_id <= MAX_ID else None
    if robot is None:
        if not ctx.principal.authenticated:
            rbac.require_system(ctx.principal, "robot", action)
        raise NotFoundError(f"robot {robot_id} not found")
    project = s.get(Project, robot.project_id) if robot.project_id else None
    try:
        _authorise(s, ctx, robot.level, project, action)
    except NotFoundError:
        raise NotFoundError(f"robot {robot_id} not found") from None
    return robot


def get(ctx: RequestContext, robot_id: int) -> dict:
    with ctx.db.read() as s:
        return to_json(_load(s, ctx, robot_id, "read"), prefix(ctx))


def update(ctx: RequestContext, robot_id: int, body: dict) -> None:
    with ctx.db.transaction() as s:
        robot = _load(s, ctx, robot_id, "update")
        _within_caller(ctx, json.loads(robot.permissions or "[]"))
        if body.get("level") not in (None, robot.level):
            raise BadRequestError("the level of a robot cannot be changed")
        if "permissions" in body and body["permissions"] is not None:
            perms, project = _permissions(s, ctx, robot.level, body["permissions"])
            if robot.level == "project" and (project is None or project.id != robot.project_id):
                raise BadRequestError("a project robot cannot move to another project")
            _within_caller(ctx, perms)
            robot.permissions = json.dumps(perms)
        if "description" in body:
            robot.description = str(body.get("description") or "")
        if "disable" in body:
            robot.disabled = bool(body["disable"])
        if (
            "duration" in body
            and body["duration"] is not None
            and body["duration"] != robot.duration
        ):
            cfg = configurations.effective(ctx.db)
            robot.duration, robot.expires_at = _expiry(
                body["duration"], int(cfg["robot_token_duration"]), robot.creation_time.timestamp()
            )
        robot.update_time = utcnow()
        audit.record(
            s, ctx.principal, "update", "robot", prefix(ctx) + robot.name, robot.project_id
        )


def delete(ctx: RequestContext, robot_id: int) -> None:
    with ctx.db.transaction() as s:
        robot = _load(s, ctx, robot_id, "delete")
        _within_caller(ctx, json.loads(robot.permissions or "[]"))
        audit.record(
            s, ctx.principal, "delete", "robot", prefix(ctx) + robot.name, robot.project_id
        )
        s.delete(robot)


def refresh_secret(ctx: RequestContext, robot_id: int, body: dict | None) -> str:
    secret = _secret((body or {}).get("secret"))
    with ctx.db.transaction() as s:
        robot = _load(s, ctx, robot_id, "update")
        _within_caller(ctx, json.loads(robot.permissions or "[]"))  # no takeover of a wider one
        robot.secret_hash = hash_password(secret)
        robot.update_time = utcnow()
        audit.record(
            s, ctx.principal, "update", "robot", prefix(ctx) + robot.name, robot.project_id
        )
    return secret


_Q_KEYS = {"Level", "level", "ProjectID", "project_id", "name"}
_SORT = {
    "id": Robot.id,
    "name": Robot.name,
    "creation_time": Robot.creation_time,
    "update_time": Robot.update_time,
}


def list_robots(
    ctx: RequestContext, q: str | None, sort: str | None, page: Page
) -> tuple[list[dict], int]:
    terms = parse_q(q, _Q_KEYS)
    level = terms.get("Level") or terms.get("level")
    project_term = terms.get("ProjectID") or terms.get("project_id")
    with ctx.db.read() as s:
        query = select(Robot)
        if project_term is not None:
            try:
                project_id = int(str(project_term.value))
            except ValueError:
                raise BadRequestError("ProjectID must be an integer") from None
            authorized_project_id(s, ctx.principal, project_id, "robot", "list")
            query = query.where(Robot.project_id == project_id)
        else:
            rbac.require_system(ctx.principal, "robot", "list")
        if level is not None:
            query = query.where(Robot.level == str(level.value))
        if "name" in terms:
            query = query.where(condition(Robot.name, terms["name"], TEXT))
        total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
        order = order_by(sort, _SORT, [Robot.id], unsorted=[Robot.creation_time.desc()])
        rows = s.scalars(query.order_by(*order).offset(page.offset).limit(page.page_size)).all()
        name_prefix = prefix(ctx)
        return [to_json(r, name_prefix) for r in rows], total
