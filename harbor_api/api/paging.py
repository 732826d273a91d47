"""Harbor's list headers, ``X-Total-Count`` and ``Link``, shaped from a service's
:class:`~harbor_api.services.paging.Page` (re-exported here for the handlers)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from connexion import request

from harbor_api.services.paging import Page

__all__ = ["Page", "link_header", "paged"]


def link_header(path: str, query: list[tuple[str, str]], page: Page, total: int) -> str | None:
    """``</api/v2.0/projects?page=2&page_size=10>; rel="next"`` entries joined by `` , ``.

    As Harbor (Go's ``url.Values.Encode``): query keys sorted, a ``prev`` link only when the
    previous page holds items.
    """
    base = [(k, v) for k, v in query if k not in {"page", "page_size"}]
    links = []
    if page.page > 1 and page.offset - page.page_size < total:
        links.append((page.page - 1, "prev"))
    if page.offset + page.page_size < total:
        links.append((page.page + 1, "next"))
    if not links:
        return None
    return " , ".join(
        f"<{path}?{_encode(base + [('page', str(n)), ('page_size', str(page.page_size))])}>;"
        f' rel="{rel}"'
        for n, rel in links
    )


def _encode(pairs: list[tuple[str, str]]) -> str:
    return urlencode(sorted(pairs, key=lambda pair: pair[0]))


def paged(items: list[Any], total: int, page: Page, status: int = 200):
    """A Connexion handler result with the list headers set."""
    headers = {"X-Total-Count": str(total)}
    link = link_header(request.url.path, list(request.query_params.multi_items()), page, total)
    if link:
        headers["Link"] = link
    return items, status, headers
