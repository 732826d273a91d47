"""A small requests-based client bound to one server and one identity."""

from __future__ import annotations

import requests


class ApiClient(requests.Session):
    """``client.get("/projects")`` → ``GET {server}/api/v2.0/projects``; absolute paths kept."""

    def __init__(self, base_url: str, auth: tuple[str, str] | None = None) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        if auth:
            self.auth = auth
        self.verify = False

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        if url.startswith("/") and not url.startswith(
            ("/api/", "/v2", "/service/", "/c/", "/devcenter")
        ):
            url = f"{self.base_url}/api/v2.0{url}"
        elif url.startswith("/"):
            url = f"{self.base_url}{url}"
        kwargs.setdefault("timeout", 60)
        return super().request(method, url, *args, **kwargs)
