"""Tiny ASGI responders for static content: the Swagger UI, the spec, the portal."""

from __future__ import annotations

import json
import mimetypes
import re
from pathlib import Path
from urllib.parse import quote, unquote

import yaml

_TYPES = {
    ".js": "application/javascript",
    ".css": "text/css",
    ".html": "text/html; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".map": "application/json",
    ".json": "application/json",
}


# The pages run only their own files: no inline or foreign script, no framing (clickjacking),
# requests to this origin only. Swagger UI sets inline styles and shows data: images.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


async def respond(
    send,
    status: int,
    body: bytes,
    content_type: str,
    extra: list[tuple[bytes, bytes]] | None = None,
    head: bool = False,
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(body)).encode()),
            ]
            + PAGE_HEADERS
            + (extra or []),
        }
    )
    await send({"type": "http.response.body", "body": b"" if head else body})


class StaticDirectory:
    """Serve files of one directory (no sub-directories) under ``prefix``; ``index`` at the root.

    ``overrides`` maps a file name to bytes produced by the application (e.g. the index page).
    """

    def __init__(
        self,
        prefix: str,
        directory: Path | None,
        overrides: dict[str, tuple[bytes, str]] | None = None,
        index: str = "index.html",
    ) -> None:
        self.prefix = prefix.rstrip("/")
        self.directory = directory
        self.overrides = overrides or {}
        self.index = index
        self._cache: dict[str, tuple[bytes, str]] = {}

    async def __call__(self, scope, receive, send) -> None:
        head = scope["method"] == "HEAD"
        if scope["method"] not in {"GET", "HEAD"}:
            await respond(
                send,
                405,
                b'{"errors":[{"code":"METHOD_NOT_ALLOWED","message":"method not allowed"}]}',
                "application/json",
            )
            return
        path = scope["path"]
        if path == self.prefix and self.prefix:
            await respond(
                send, 301, b"", "text/plain", [(b"location", (self.prefix + "/").encode())], head
            )
            return
        name = path[len(self.prefix) :].lstrip("/") or self.index
        found = self._lookup(name)
        if found is None:
            await respond(
                send,
                404,
                b'{"errors":[{"code":"NOT_FOUND","message":"not found"}]}',
                "application/json",
                head=head,
            )
            return
        body, ctype = found
        await respond(send, 200, body, ctype, [(b"cache-control", b"no-cache")], head)

    def _lookup(self, name: str) -> tuple[bytes, str] | None:
        if name in self.overrides:
            return self.overrides[name]
        if "/" in name or name.startswith(".") or self.directory is None:
            return None
        if name not in self._cache:
            file = self.directory / name
            if not file.is_file():
                return None
            ctype = (
                _TYPES.get(file.suffix)
                or mimetypes.guess_type(name)[0]
                or "application/octet-stream"
            )
            self._cache[name] = (file.read_bytes(), ctype)
        return self._cache[name]


# The portal is a single page: every route below is answered with its shell (``index.html``),
# the browser's History API router draws the page. Reloading a deep link keeps the page.
PORTAL_ROUTES = ("/login", "/projects", "/account", "/admin", "/dashboard", "/search")
_HARBOR_REPOSITORY = re.compile(
    r"^/harbor/projects/(\d+)/repositories/([^/]+)"
    r"(?:/artifacts-tab(?:/artifacts/([^/]+))?)?"
)
_HARBOR_PROJECT = re.compile(r"^/harbor/projects/(\d+)(?:/|$)")


def harbor_redirect(path: str) -> str | None:
    """Harbor's portal URLs people bookmarked (``/harbor/projects/{id}/repositories/...``)
    mapped to ours; ``None`` when the path is not one of Harbor's."""
    if path != "/harbor" and not path.startswith("/harbor/"):
        return None
    found = _HARBOR_REPOSITORY.match(path)
    if found:
        project, repository, reference = found.groups()
        target = f"/projects/{project}/repositories/{quote(unquote(repository), safe='')}"
        return target + (f"/artifacts/{quote(reference, safe=':')}" if reference else "")
    found = _HARBOR_PROJECT.match(path)
    if found:
        return f"/projects/{found.group(1)}"
    if path.startswith("/harbor/projects"):
        return "/projects"
    return "/"


class PortalApp(StaticDirectory):
    """The portal's files at the root, its shell for portal routes, Harbor's URLs redirected."""

    def __init__(self, directory: Path | None) -> None:
        super().__init__("", directory)

    async def __call__(self, scope, receive, send) -> None:
        path = scope["path"]
        if scope["method"] in {"GET", "HEAD"}:
            target = harbor_redirect(path)
            if target is not None:
                query = scope.get("query_string", b"")
                location = target + ("?" + query.decode("latin-1") if query else "")
                await respond(
                    send,
                    302,
                    b"",
                    "text/plain",
                    [(b"location", location.encode("latin-1"))],
                    scope["method"] == "HEAD",
                )
                return
            if any(path == r or path.startswith(r + "/") for r in PORTAL_ROUTES):
                scope = {**scope, "path": "/"}
            elif (
                path != "/"
                and "." not in path.rsplit("/", 1)[-1]
                and self._lookup(path.lstrip("/")) is None
            ):
                # Not a file, not a page: a 404 a person can read (the shell says so).
                shell = self._lookup(self.index)
                if shell is not None:
                    await respond(send, 404, shell[0], shell[1], head=scope["method"] == "HEAD")
                    return
        await super().__call__(scope, receive, send)


class SpecDocument:
    """The loaded OpenAPI document as JSON (``swagger.json``) and YAML (``swagger.yaml``)."""

    def __init__(self, spec: dict) -> None:
        self.json = json.dumps(spec, indent=1, default=str).encode()
        self.yaml = yaml.safe_dump(spec, sort_keys=False).encode()

    async def __call__(self, scope, receive, send) -> None:
        head = scope["method"] == "HEAD"
        if scope["path"].endswith(".yaml"):
            await respond(send, 200, self.yaml, "application/yaml", head=head)
        else:
            await respond(send, 200, self.json, "application/json", head=head)


DEVCENTER_INDEX = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>harbor-api developer center</title>
  <link rel="stylesheet" href="/devcenter/swagger-ui.css">
  <link rel="icon" type="image/png" href="/devcenter/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/devcenter/swagger-ui-bundle.js"></script>
  <script src="/devcenter/devcenter-init.js"></script>
</body>
</html>
"""

# Loaded as a file, not inline: the page's CSP allows no inline script. "Try it out" rides on
# the portal's session: the browser sends the HttpOnly ``sid`` cookie (same origin) and the
# interceptor adds the CSRF header from the login's readable ``__csrf`` cookie to writes.
# Credentials typed into "Authorize" stay in memory only (persistAuthorization off), never in
# localStorage.
DEVCENTER_INIT = """(function () {
  "use strict";
  function csrfToken() {
    var found = document.cookie.split("; ").filter(function (c) {
      return c.indexOf("__csrf=") === 0; })[0];
    return found ? decodeURIComponent(found.slice(7)) : "";
  }
  try { window.localStorage.removeItem("authorized"); } catch (e) { /* storage disabled */ }
  window.ui = SwaggerUIBundle({
    url: "/api/v2.0/swagger.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    persistAuthorization: false,
    requestInterceptor: function (req) {
      req.credentials = "same-origin";
      var method = (req.method || "GET").toUpperCase();
      var token = csrfToken();
      if (token && method !== "GET" && method !== "HEAD" && method !== "OPTIONS") {
        req.headers["X-Harbor-CSRF-Token"] = token;
      }
      return req;
    }
  });
}());
"""
DEVCENTER_FILES = {
    "index.html": (DEVCENTER_INDEX.encode(), "text/html; charset=utf-8"),
    "devcenter-init.js": (DEVCENTER_INIT.encode(), "application/javascript"),
}
