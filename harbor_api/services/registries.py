"""Registry endpoints (Harbor's ``/registries``): the remote registries replication and
proxy-cache projects use. System administrators only, as in Harbor.

The secret of an endpoint's credential is encrypted with the server's credential key before
it is stored (:mod:`harbor_api.auth.credential_cipher`) and never leaves the server: reads
show ``*****``, audit entries name only the endpoint. Remote checks (ping) run outside any
database transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from harbor_api import adapters
from harbor_api.adapters import AdapterError, Credential, Endpoint
from harbor_api.auth import rbac
from harbor_api.auth.credential_cipher import load_credential_cipher
from harbor_api.db.models import Project, RegistryEndpoint
from harbor_api.errors import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    PreconditionFailedError,
)
from harbor_api.services import audit
from harbor_api.services.context import RequestContext
from harbor_api.services.formats import iso
from harbor_api.services.query import (
    INT,
    TEXT,
    conditions,
    contains,
    order_by,
    page_and_total,
    parse_q,
)

MASKED_SECRET = "*****"
CREDENTIAL_TYPES = ("basic",)
HEALTHY, UNHEALTHY = "healthy", "unhealthy"
_SORT = {
    "id": RegistryEndpoint.id,
    "name": RegistryEndpoint.name,
    "url": RegistryEndpoint.url,
    "type": RegistryEndpoint.type,
    "creation_time": RegistryEndpoint.creation_time,
    "update_time": RegistryEndpoint.update_time,
}
_Q_FIELDS = {
    "name": (RegistryEndpoint.name, TEXT),
    "url": (RegistryEndpoint.url, TEXT),
    "type": (RegistryEndpoint.type, TEXT),
    "description": (RegistryEndpoint.description, TEXT),
    "id": (RegistryEndpoint.id, INT),
}

UsageCheck = Callable[[Session, int], list[str]]
USAGE_CHECKS: list[UsageCheck] = []
"""What else may hold on to an endpoint: each check returns descriptions of its users
(e.g. ``replication policy p1``). The replication policies register theirs here."""


def register_usage_check(check: UsageCheck) -> UsageCheck:
    USAGE_CHECKS.append(check)
    return check


@register_usage_check
def _proxy_cache_projects(session: Session, registry_id: int) -> list[str]:
    names = session.scalars(select(Project.name).where(Project.registry_id == registry_id))
    return [f"proxy cache project {name}" for name in names]


def registry_users(session: Session, registry_id: int) -> list[str]:
    return [user for check in USAGE_CHECKS for user in check(session, registry_id)]


def render(row: RegistryEndpoint) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": row.id,
        "name": row.name,
        "url": row.url,
        "type": row.type,
        "insecure": bool(row.insecure),
        "description": row.description or "",
        "status": row.status or "unknown",
        "creation_time": iso(row.creation_time),
        "update_time": iso(row.update_time),
    }
    if row.credential_type or row.access_key or row.access_secret:
        credential = {"type": row.credential_type or "basic", "access_key": row.access_key}
        if row.access_secret:
            credential["access_secret"] = MASKED_SECRET
        item["credential"] = credential
    return item


def normalize_url(raw: str | None) -> str:
    """Harbor's rule: a URL without a scheme is ``http://``; only http(s); no trailing
    slash, path, query or fragment-less host."""
    url = (raw or "").strip()
    if not url:
        raise BadRequestError("url is required")
    if "://" not in url:
        url = "http://" + url
    try:
        parts = urlsplit(url)  # raises on a malformed [IPv6] host
        hostname = parts.hostname
        httpx.URL(url)  # what the adapters will send to must parse too
    except (ValueError, httpx.InvalidURL):
        raise BadRequestError(f"invalid url {raw!r}: malformed host or port") from None
    if parts.scheme not in ("http", "https") or not hostname:
        raise BadRequestError(f"invalid url {raw!r}: expected http(s)://host[:port]")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise BadRequestError(f"invalid url {raw!r}: bad port") from None
    if parts.query or parts.fragment or parts.username or parts.password:
        raise BadRequestError(f"invalid url {raw!r}: no credentials, query or fragment")
    return url.rstrip("/")


def _check_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise BadRequestError("registry name is required (at most 64 characters)")
    return name


def _check_type(registry_type: str | None) -> str:
    if registry_type not in adapters.ADAPTERS:
        raise BadRequestError(
            f"unsupported registry type {registry_type!r}; supported: "
            f"{', '.join(adapters.ADAPTER_TYPES)}"
        )
    return registry_type


def _check_credential_type(credential_type: str | None) -> str:
    credential_type = credential_type or "basic"
    if credential_type not in CREDENTIAL_TYPES:
        raise BadRequestError(
            f"unsupported credential type {credential_type!r}; "
            f"supported: {', '.join(CREDENTIAL_TYPES)}"
        )
    return credential_type


def _check_unique(s: Session, name: str, exclude_id: int | None = None) -> None:
    query = select(RegistryEndpoint.id).where(RegistryEndpoint.name == name)
    if exclude_id is not None:
        query = query.where(RegistryEndpoint.id != exclude_id)
    if s.scalar(query) is not None:
        raise ConflictError(f"registry {name} already exists")


def _get(s: Session, registry_id: int) -> RegistryEndpoint:
    row = s.get(RegistryEndpoint, registry_id)
    if row is None:
        raise NotFoundError(f"registry {registry_id} not found")
    return row


def list_registries(
    ctx: RequestContext,
    *,
    q: str | None,
    sort: str | None,
    name: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict], int]:
    rbac.require_system(ctx.principal, "registry", "list")
    where = conditions(parse_q(q, set(_Q_FIELDS)), _Q_FIELDS)
    if name:
        where.append(contains(RegistryEndpoint.name, name))
    order = order_by(sort, _SORT, [RegistryEndpoint.id.asc()])
    with ctx.db.read() as s:
        rows, total = page_and_total(
            s,
            select(RegistryEndpoint).where(*where).order_by(*order),
            select(func.count()).select_from(RegistryEndpoint).where(*where),
            offset,
            limit,
        )
        return [render(r) for r in rows], total


def create_registry(ctx: RequestContext, body: dict[str, Any]) -> int:
    rbac.require_system(ctx.principal, "registry", "create")
    name = _check_name(body.get("name"))
    registry_type = _check_type(body.get("type"))
    url = normalize_url(body.get("url"))
    credential = body.get("credential") or {}
    has_credential = bool(credential.get("access_key") or credential.get("access_secret"))
    credential_type = _check_credential_type(credential.get("type")) if has_credential else ""
    secret = load_credential_cipher(ctx.settings).encrypt(credential.get("access_secret") or "")
    with ctx.db.transaction() as s:
        _check_unique(s, name)
        row = RegistryEndpoint(
            name=name,
            url=url,
            type=registry_type,
            description=body.get("description") or "",
            insecure=bool(body.get("insecure")),
            credential_type=credential_type,
            access_key=credential.get("access_key") or "",
            access_secret=secret,
            status="unknown",
        )
        s.add(row)
        s.flush()
        audit.record(s, ctx.principal, "create", "registry", name)
        return row.id


def get_registry(ctx: RequestContext, registry_id: int) -> dict[str, Any]:
    rbac.require_system(ctx.principal, "registry", "read")
    with ctx.db.read() as s:
        return render(_get(s, registry_id))


def update_registry(ctx: RequestContext, registry_id: int, body: dict[str, Any]) -> None:
    rbac.require_system(ctx.principal, "registry", "update")
    cipher = load_credential_cipher(ctx.settings)
    with ctx.db.transaction() as s:
        row = _get(s, registry_id)
        if body.get("name") is not None:
            name = _check_name(body["name"])
            _check_unique(s, name, exclude_id=row.id)  # before the change: no autoflush
            row.name = name
        if body.get("description") is not None:
            row.description = body["description"]
        if body.get("url") is not None:
            row.url = normalize_url(body["url"])
        if body.get("insecure") is not None:
            row.insecure = bool(body["insecure"])
        if body.get("credential_type") is not None:
            row.credential_type = _check_credential_type(body["credential_type"])
        if body.get("access_key") is not None:
            row.access_key = body["access_key"]
        secret = body.get("access_secret")
        if secret is not None and secret != MASKED_SECRET:
            row.access_secret = cipher.encrypt(secret)
        if (row.access_key or row.access_secret) and not row.credential_type:
            row.credential_type = "basic"
        row.status = "unknown"  # what was checked is not what is stored any more
        audit.record(s, ctx.principal, "update", "registry", row.name)


def delete_registry(ctx: RequestContext, registry_id: int) -> None:
    rbac.require_system(ctx.principal, "registry", "delete")
    with ctx.db.transaction() as s:
        row = _get(s, registry_id)
        users = registry_users(s, registry_id)
        if users:
            raise PreconditionFailedError(
                f"registry {row.name} is in use by {', '.join(users)}; it cannot be deleted"
            )
        audit.record(s, ctx.principal, "delete", "registry", row.name)
        s.delete(row)


def _endpoint(row: RegistryEndpoint, secret: str) -> Endpoint:
    credential = None
    if row.access_key or secret:
        credential = Credential(row.credential_type or "basic", row.access_key, secret)
    return Endpoint(row.url, row.type, bool(row.insecure), credential)


def endpoint_of(ctx: RequestContext, registry_id: int) -> Endpoint:
    """The stored endpoint with its secret decrypted, for the services that call it
    (replication, proxy cache); not for rendering."""
    with ctx.db.read() as s:
        row = _get(s, registry_id)
        return _endpoint(row, load_credential_cipher(ctx.settings).decrypt(row.access_secret))


def ping_registry(ctx: RequestContext, body: dict[str, Any]) -> None:
    """Harbor's ping: the stored endpoint (``id``) or the one described, fields given
    overriding stored ones; unhealthy is a 400 that says why."""
    rbac.require_system(ctx.principal, "registry", "read")
    registry_id = body.get("id")
    stored = endpoint_of(ctx, registry_id) if registry_id else None
    registry_type = body.get("type") or (stored.type if stored else "")
    url = body.get("url") or (stored.url if stored else "")
    if not registry_type or not url:
        raise BadRequestError("type or url cannot be empty")
    old = stored.credential if stored and stored.credential else Credential()
    secret = body.get("access_secret")
    if (
        stored
        and old.access_secret
        and (secret is None or secret == MASKED_SECRET)
        and normalize_url(url) != normalize_url(stored.url)
    ):
        # the stored secret goes only to the stored URL: pinging another must bring its own
        raise BadRequestError(
            "the url differs from the registry's stored url: give the "
            "access_secret again to ping it"
        )
    credential = Credential(
        _check_credential_type(body.get("credential_type") or old.type),
        old.access_key if body.get("access_key") is None else body["access_key"],
        old.access_secret if secret is None or secret == MASKED_SECRET else secret,
    )
    insecure = body.get("insecure")
    endpoint = Endpoint(
        normalize_url(url),
        _check_type(registry_type),
        bool(stored.insecure if stored and insecure is None else insecure),
        credential if credential.access_key or credential.access_secret else None,
    )
    problem = check_health(endpoint)
    if registry_id:
        _record_status(ctx, registry_id, UNHEALTHY if problem else HEALTHY)
    if problem:
        raise BadRequestError(f"the registry is unhealthy: {problem}")


def check_health(endpoint: Endpoint) -> str | None:
    """None when the endpoint answers and takes the credential, else the reason."""
    try:
        with adapters.adapter_for(endpoint) as adapter:
            adapter.health_check()
    except AdapterError as exc:
        return exc.message
    return None


def _record_status(ctx: RequestContext, registry_id: int, status: str) -> None:
    with ctx.db.transaction() as s:
        row = s.get(RegistryEndpoint, registry_id)
        if row is not None:
            row.status = status


def registry_info(ctx: RequestContext, registry_id: int) -> dict[str, Any]:
    rbac.require_system(ctx.principal, "registry", "read")
    with ctx.db.read() as s:
        registry_type = _get(s, registry_id).type
    info = adapters.adapter_info(registry_type)
    return {
        "type": info.type,
        "description": info.description,
        "supported_resource_filters": [
            {"type": f.type, "style": f.style, **({"values": list(f.values)} if f.values else {})}
            for f in info.supported_resource_filters
        ],
        "supported_triggers": list(info.supported_triggers),
    }


def adapter_types(ctx: RequestContext) -> list[str]:
    rbac.require_system(ctx.principal, "registry", "list")
    return list(adapters.ADAPTER_TYPES)


def adapter_infos(ctx: RequestContext) -> dict[str, dict[str, Any]]:
    rbac.require_system(ctx.principal, "registry", "list")
    infos = {}
    for registry_type in adapters.ADAPTER_TYPES:
        info = adapters.adapter_info(registry_type)
        infos[registry_type] = {
            "endpoint_pattern": {"endpoint_type": info.endpoint_type},
            "credential_pattern": {
                "access_key_type": info.credential_key_type,
                "access_secret_type": info.credential_secret_type,
            },
        }
    return infos
