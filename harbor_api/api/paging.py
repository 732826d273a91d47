"""Harbor's list conventions: ``page``/``page_size``, ``X-Total-Count`` and ``Link``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from connexion import request

from harbor_api.errors import BadRequestError

MAX_PAGE_SIZE = 100
MAX_PAGE = 10**9


@dataclass(frozen=True)
class Page:
    page: int = 1
    page_size: int = 10

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    @classmethod
    def of(cls, page: int | None, page_size: int | None) -> Page:
        page = 1 if page is None else int(page)
        size = 10 if page_size is None else int(page_size)
        if page < 1:
            raise BadRequestError("page must be at least 1")
        if size < 1 or size > MAX_PAGE_SIZE:
            raise BadRequestError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        # Far past any real data; keeps OFFSET within the databases' 64-bit range.
        return cls(min(page, MAX_PAGE), size)


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
        f'<{path}?{_encode(base + [("page", str(n)), ("page_size", str(page.page_size))])}>;'
        f' rel="{rel}"' for n, rel in links)


def _encode(pairs: list[tuple[str, str]]) -> str:
    return urlencode(sorted(pairs, key=lambda pair: pair[0]))


def paged(items: list[Any], total: int, page: Page, status: int = 200):
    """A Connexion handler result with the list headers set."""
    headers = {"X-Total-Count": str(total)}
    link = link_header(request.url.path, list(request.query_params.multi_items()), page, total)
    if link:
        headers["Link"] = link
    return items, status, headers
