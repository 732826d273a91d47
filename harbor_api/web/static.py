"""Tiny ASGI responders for static content: the Swagger UI, the spec, the portal."""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path

import yaml

_TYPES = {".js": "application/javascript", ".css": "text/css", ".html": "text/html; charset=utf-8",
          ".png": "image/png", ".map": "application/json", ".json": "application/json"}


# The pages run only their own files: no inline or foreign script, no framing (clickjacking),
# requests to this origin only. Swagger UI sets inline styles and shows data: images.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
PAGE_HEADERS = [(b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
                (b"x-frame-options", b"DENY"),
                (b"referrer-policy", b"same-origin")]


async def respond(send, status: int, body: bytes, content_type: str,
                  extra: list[tuple[bytes, bytes]] | None = None, head: bool = False) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type.encode()),
                            (b"content-length", str(len(body)).encode())]
                + PAGE_HEADERS + (extra or [])})
    await send({"type": "http.response.body", "body": b"" if head else body})


class StaticDirectory:
    """Serve files of one directory (no sub-directories) under ``prefix``; ``index`` at the root.

    ``overrides`` maps a file name to bytes produced by the application (e.g. the index page).
    """

    def __init__(self, prefix: str, directory: Path | None,
                 overrides: dict[str, tuple[bytes, str]] | None = None,
                 index: str = "index.html") -> None:
        self.prefix = prefix.rstrip("/")
        self.directory = directory
        self.overrides = overrides or {}
        self.index = index
        self._cache: dict[str, tuple[bytes, str]] = {}

    async def __call__(self, scope, receive, send) -> None:
        head = scope["method"] == "HEAD"
        if scope["method"] not in {"GET", "HEAD"}:
            await respond(send, 405, b'{"errors":[{"code":"METHOD_NOT_ALLOWED",'
                          b'"message":"method not allowed"}]}', "application/json")
            return
        path = scope["path"]
        if path == self.prefix and self.prefix:
            await respond(send, 301, b"", "text/plain",
                          [(b"location", (self.prefix + "/").encode())], head)
            return
        name = path[len(self.prefix):].lstrip("/") or self.index
        found = self._lookup(name)
        if found is None:
            await respond(send, 404, b'{"errors":[{"code":"NOT_FOUND",'
                          b'"message":"not found"}]}', "application/json", head=head)
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
            ctype = _TYPES.get(file.suffix) or mimetypes.guess_type(name)[0] or \
                "application/octet-stream"
            self._cache[name] = (file.read_bytes(), ctype)
        return self._cache[name]


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

# Loaded as a file, not inline: the page's CSP allows no inline script.
DEVCENTER_INIT = """window.ui = SwaggerUIBundle({
  url: "/api/v2.0/swagger.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  persistAuthorization: true,
  requestInterceptor: function (req) { req.credentials = "omit"; return req; }
});
"""
DEVCENTER_FILES = {"index.html": (DEVCENTER_INDEX.encode(), "text/html; charset=utf-8"),
                   "devcenter-init.js": (DEVCENTER_INIT.encode(), "application/javascript")}
