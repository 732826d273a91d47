"""The portal as the server ships it, without a browser: the shell for deep links, Harbor's
bookmarked URLs, headers, the size budget, and rules its sources must keep."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
import requests

from harbor_api.services.projects import NAME_PATTERN
from harbor_api.web.static import harbor_redirect

pytestmark = [pytest.mark.e2e]

PORTAL = Path(__file__).resolve().parents[2] / "harbor_api" / "web" / "portal"
BUDGET = 300 * 1024  # JS + CSS, gzipped


def sources() -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(PORTAL.iterdir()) if p.suffix in (".js", ".css")}


def test_js_and_css_fit_the_gzipped_budget():
    total = sum(len(gzip.compress(text.encode(), 9)) for text in sources().values())
    print(f"portal JS+CSS: {total} bytes gzipped")
    assert total <= BUDGET


def test_no_source_uses_html_sinks():
    for name, text in sources().items():
        code = re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.S)  # comments may name them
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in code, f"{name} uses {sink}"


def test_every_message_key_is_in_the_catalogue():
    catalogue = set(re.findall(r'^\s*"([^"]+)":', sources()["messages-en.js"], re.M))
    used = set()
    for text in sources().values():
        used |= set(re.findall(r'\bt\("([^"]+)"[,)]', text))
    assert used - catalogue == set()


def test_project_name_rule_matches_the_servers():
    text = sources()["page-projects.js"]
    pattern = re.search(r'PROJECT_NAME_PATTERN = "([^"]+)"', text).group(1)
    browser_rule = re.compile("^(?:" + pattern.replace("\\\\", "\\") + ")$")
    for name in ["a", "lib", "my-app", "a.b_c-d", "x1", "-a", "a-", "A", "a..b", "a/b", "ä", ""]:
        assert bool(browser_rule.match(name)) == bool(NAME_PATTERN.match(name)), name


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/login",
        "/projects",
        "/projects/1",
        "/projects/1/members",
        "/projects/1/immutability",
        "/projects/1/retention",
        "/projects/1/webhooks",
        "/projects/1/repositories/a%2Fb",
        "/projects/1/repositories/x/artifacts/sha256:ab",
        "/account",
        "/admin/users",
        "/admin/gc",
        "/admin/replications/executions/1",
        "/dashboard",
    ],
)
def test_portal_routes_serve_the_shell_with_a_strict_csp(sqlite_server, path):
    r = requests.get(sqlite_server.url + path, timeout=10, allow_redirects=False)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/portal.js"></script>' in r.text
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"


def test_unknown_paths_and_files_are_404(sqlite_server):
    for path in ["/nope", "/projects.js", "/.env", "/portal.js/x"]:
        r = requests.get(sqlite_server.url + path, timeout=10)
        assert r.status_code == 404, path
    page = requests.get(sqlite_server.url + "/nope", timeout=10)  # the shell says "no such page"
    assert page.headers["content-type"].startswith("text/html")
    assert (
        requests.get(sqlite_server.url + "/.env", timeout=10).headers["content-type"]
        == "application/json"
    )
    r = requests.get(sqlite_server.url + "/portal.js", timeout=10)
    assert r.status_code == 200 and r.headers["content-type"] == "application/javascript"


@pytest.mark.parametrize(
    "old,new",
    [
        ("/harbor/projects/3/repositories/nginx/artifacts-tab", "/projects/3/repositories/nginx"),
        (
            "/harbor/projects/3/repositories/team%2Fapp/artifacts-tab/artifacts/sha256:ab",
            "/projects/3/repositories/team%2Fapp/artifacts/sha256:ab",
        ),
        ("/harbor/projects/3/repositories/nginx", "/projects/3/repositories/nginx"),
        ("/harbor/projects/3/members", "/projects/3"),
        ("/harbor/projects", "/projects"),
        ("/harbor/sign-in", "/"),
    ],
)
def test_harbor_urls_map_to_ours(old, new):
    assert harbor_redirect(old) == new


def test_harbor_bookmarks_redirect(sqlite_server):
    # The server sees the path decoded once: Harbor's %252F arrives as %2F.
    r = requests.get(
        sqlite_server.url + "/harbor/projects/1/repositories/team%252Fapp/artifacts-tab",
        timeout=10,
        allow_redirects=False,
    )
    assert r.status_code == 302
    assert r.headers["location"] == "/projects/1/repositories/team%2Fapp"
