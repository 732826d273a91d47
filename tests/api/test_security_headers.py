"""Hardening headers: the portal and Swagger UI pages may not be framed, run only their own
scripts and send no referrer off-site; every response (API and registry too) forbids MIME
sniffing."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.api

PAGES = [
    "/",
    "/index.html",
    "/portal.js",
    "/portal.css",
    "/devcenter/",
    "/devcenter/swagger-ui-bundle.js",
    "/devcenter/swagger-ui.css",
    "/devcenter/devcenter-init.js",
    "/api/v2.0/swagger.json",
    "/no-such-file",
]


def _directives(csp: str) -> dict[str, list[str]]:
    out = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


@pytest.mark.parametrize("path", PAGES)
def test_pages_send_hardening_headers(anon_client, server, path):
    r = anon_client.get(f"{server.url}{path}")
    assert r.status_code in (200, 404), path
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"
    csp = _directives(r.headers["Content-Security-Policy"])
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["script-src"] == ["'self'"]  # no inline script, no eval, nothing foreign
    assert csp["object-src"] == ["'none'"]


@pytest.mark.parametrize("path", ["/", "/devcenter/"])
def test_pages_have_no_inline_script(anon_client, server, path):
    html = anon_client.get(f"{server.url}{path}").text
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all("src=" in attrs and not body.strip() for attrs, body in scripts)
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers either


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("GET", "/api/v2.0/systeminfo", 200),
        ("GET", "/api/v2.0/projects", 200),
        ("GET", "/api/v2.0/users", 401),
        ("GET", "/api/v2.0/nothing-here", 404),
        ("GET", "/v2/", 401),
        ("GET", "/service/token?service=harbor-registry", 200),
    ],
)
def test_api_and_registry_responses_forbid_sniffing(anon_client, server, method, path, status):
    r = anon_client.request(method, f"{server.url}{path}")
    assert r.status_code == status
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers.get("x-content-type-options") == "nosniff"
