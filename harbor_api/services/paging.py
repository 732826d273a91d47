"""``Page``: which slice of a list a service returns (Harbor's ``page``/``page_size``).

A service-level type: the services take it and the API edge shapes ``X-Total-Count`` and
``Link`` from it (:mod:`harbor_api.api.paging`).
"""

from __future__ import annotations

from dataclasses import dataclass

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
