"""Listing endpoints: tags/list, _catalog (both paginated with ``n``/``last`` and ``Link``)
and the referrers API."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import anyio

from harbor_api.errors import COMPACT, BadRequestError
from harbor_api.registry.digest import parse_digest
from harbor_api.registry.manifests import OCI_INDEX
from harbor_api.services.oci import repository_access
from harbor_api.v2 import offload

CATALOG_DEFAULT_PAGE = 1000
MAX_PAGE = 10000


def _page_size(request, default: int | None) -> int | None:
    raw = request.query.get("n")
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequestError(f"n must be a non-negative integer, got {raw[:20]!r}") from None
    if value < 0:
        raise BadRequestError("n must be a non-negative integer")
    return min(value, MAX_PAGE)


def _paginate(items: list[str], limit: int | None, path: str) -> tuple[list[str], dict]:
    """``items`` was fetched with one extra row to learn whether a next page exists."""
    if limit is None or len(items) <= limit:
        return items, {}
    items = items[:limit]
    query = urlencode({"n": limit, "last": items[-1]})
    return items, {"Link": f'<{path}?{query}>; rel="next"'}


async def list_tags(app, request, responder, route) -> None:
    limit = _page_size(request, None)
    last = request.query.get("last") or None
    principal = request.ctx.principal

    def load() -> list[str]:
        return app.listings.tags(principal, route.name, limit, last, request.actions)

    inline = repository_access.token_allows(principal, route.name, request.actions)
    tags, headers = _paginate(
        await offload.run_read(app, load, inline), limit, f"/v2/{route.name}/tags/list"
    )
    body = json.dumps({"name": route.name, "tags": tags}, **COMPACT).encode()
    await responder.respond(200, headers, body, "application/json")


async def catalog(app, request, responder, route) -> None:
    limit = _page_size(request, CATALOG_DEFAULT_PAGE)
    last = request.query.get("last") or None
    principal = request.ctx.principal

    def load() -> list[str]:
        return app.listings.catalog(principal, limit, last, app.state.settings.filtered_catalog)

    names, headers = _paginate(await anyio.to_thread.run_sync(load), limit, "/v2/_catalog")
    body = json.dumps({"repositories": names}, **COMPACT).encode()
    await responder.respond(200, headers, body, "application/json")


async def list_referrers(app, request, responder, route) -> None:
    subject = route.argument
    parse_digest(subject)
    wanted = request.query.get("artifactType") or None
    principal = request.ctx.principal

    def load() -> list[dict[str, Any]]:
        return app.listings.referrers(principal, route.name, subject, wanted, request.actions)

    manifests = await anyio.to_thread.run_sync(load)
    body = json.dumps(
        {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}, **COMPACT
    ).encode()
    headers = {"OCI-Filters-Applied": "artifactType"} if wanted else {}
    await responder.respond(200, headers, body, OCI_INDEX)


LISTING_HANDLERS = {
    ("tags", "GET"): list_tags,
    ("catalog", "GET"): catalog,
    ("referrers", "GET"): list_referrers,
}
