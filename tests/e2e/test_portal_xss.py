"""Attacker-controlled text in every free-text field stays text in the portal.

The pages run with the CSP bypassed, so a DOM sink that parsed HTML would really execute the
payload: the test checks the portal's own code, the CSP is only a second wall.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.support.browser import XSS, Watch, launch, new_context, settle, sign_in
from tests.support.clients import ApiClient
from tests.support.push import Pusher
from tests.support.servers import ADMIN_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SHORT = "<img src=x onerror=__xss=1>"  # a user's comment holds at most 30 characters
MARKDOWN = (
    f"# {XSS}\n\n{XSS} **{XSS}** `{XSS}`\n\n- {XSS}\n\n"
    "[click](javascript:window.__xss=2) [data](data:text/html,<script>x</script>)\n\n"
    f"```\n{XSS}\n```\n<script>window.__xss=3</script>"
)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def hostile(sqlite_server):
    """Every free-text field the API stores, filled with the payload."""
    name = f"xss-{uuid.uuid4().hex[:6]}"
    with ApiClient(sqlite_server.url, ("admin", ADMIN_PASSWORD)) as admin:
        refused = admin.post("/projects", json={"project_name": XSS})
        assert refused.status_code == 400  # a project name is validated, never stored
        assert admin.post("/projects", json={"project_name": name}).status_code == 201
        pid = admin.get(f"/projects/{name}").json()["project_id"]
        image = Pusher(sqlite_server.url).image(f"{name}/app", "v1")
        assert admin.put(f"/projects/{name}/repositories/app", json={"description": MARKDOWN}).ok
        for scope in ("p", "g"):
            body = {"name": XSS + scope, "description": XSS, "scope": scope, "color": "#aa0000"}
            if scope == "p":
                body["project_id"] = pid
            r = admin.post("/labels", json=body)
            assert r.status_code == 201, r.text
        label_id = int(r.headers["Location"].rsplit("/", 1)[1])
        assert admin.post(
            f"/projects/{name}/repositories/app/artifacts/{image.digest}/labels",
            json={"id": label_id},
        ).ok
        user = f"x{uuid.uuid4().hex[:6]}"
        assert (
            admin.post(
                "/users",
                json={
                    "username": user,
                    "email": f"{user}@example.com",
                    "realname": XSS,
                    "comment": SHORT,
                    "password": "Passw0rd!x",
                },
            ).status_code
            == 201
        )
        assert (
            admin.post(
                f"/projects/{pid}/members", json={"role_id": 2, "member_user": {"username": user}}
            ).status_code
            == 201
        )
        assert admin.post(
            "/robots",
            json={
                "name": "xss",
                "description": XSS,
                "level": "project",
                "duration": 1,
                "permissions": [
                    {
                        "kind": "project",
                        "namespace": name,
                        "access": [{"resource": "repository", "action": "pull"}],
                    }
                ],
            },
        ).ok
        r = admin.post(
            "/registries",
            json={
                "name": XSS[:40] + name,
                "description": XSS,
                "type": "harbor",
                "url": "http://127.0.0.1:1",
            },
        )
        assert r.status_code == 201, r.text
        registry = int(r.headers["Location"].rsplit("/", 1)[1])
        r = admin.post(
            "/replication/policies",
            json={
                "name": XSS + name,
                "description": XSS,
                "dest_registry": {"id": registry},
                "filters": [{"type": "name", "value": XSS}],
            },
        )
        assert r.status_code == 201, r.text
        selectors = {
            "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": SHORT}],
            "scope_selectors": {
                "repository": [{"kind": "doublestar", "decoration": "repoMatches", "pattern": XSS}]
            },
        }
        r = admin.post(f"/projects/{name}/immutabletagrules", json=selectors)
        assert r.status_code == 201, r.text
        rule = {"action": "retain", "template": "always", "params": {}, **selectors}
        r = admin.post(
            "/retentions",
            json={
                "algorithm": "or",
                "scope": {"level": "project", "ref": pid},
                "trigger": {"kind": "Schedule", "settings": {"cron": ""}},
                "rules": [rule],
            },
        )
        assert r.status_code == 201, r.text
        r = admin.post(
            f"/projects/{name}/webhook/policies",
            json={
                "name": XSS,
                "description": XSS,
                "enabled": True,
                "event_types": ["PUSH_ARTIFACT"],
                "targets": [
                    {"type": "http", "address": "http://127.0.0.1:1/" + SHORT, "auth_header": XSS}
                ],
            },
        )
        assert r.status_code == 201, r.text
    return {"id": pid, "name": name, "user": user, "digest": image.digest}


def assert_inert(page):
    assert page.evaluate("window.__xss") is None
    assert page.locator("img[src=x], main script").count() == 0
    assert page.locator("a[href^='javascript:'], a[href^='data:']").count() == 0


def test_no_free_text_field_executes(browser, sqlite_server, hostile):
    context = new_context(browser, sqlite_server.url, bypass_csp=True)
    page = context.new_page()
    watch = Watch(page, sqlite_server.url)
    sign_in(page)
    p = f"/projects/{hostile['id']}"
    visits = [
        f"{p}/repositories/app",
        f"{p}/repositories/app/artifacts/{hostile['digest']}",
        f"{p}/labels",
        f"{p}/members",
        f"{p}/robots",
        f"{p}/logs",
        f"{p}/immutability",
        f"{p}/retention",
        f"{p}/webhooks",
        "/admin/users",
        "/admin/labels",
        "/admin/groups",
        "/admin/logs",
        "/admin/registries",
        "/admin/replications",
        "/admin/quotas",
        "/dashboard",
    ]
    for path in visits:
        page.goto(path)
        settle(page)
        assert_inert(page)
    page.goto(f"{p}/repositories/app")
    settle(page)
    description = page.locator("#repo-description")
    expect(description.locator("h3").first).to_have_text(XSS)  # shown, as text
    expect(description.locator("strong").first).to_have_text(XSS)
    expect(description).to_contain_text("<script>window.__xss=3</script>")
    expect(page.locator(".chip-wrap").first).to_contain_text(XSS + "g")  # the global label
    page.click("#edit-description")  # the editor gets the raw text as a value
    expect(page.locator("dialog textarea")).to_have_value(MARKDOWN)
    page.keyboard.press("Escape")
    page.goto("/admin/users")
    settle(page)
    row = page.locator(f"#users tr[data-user='{hostile['user']}']")
    expect(row).to_contain_text(XSS)
    expect(row).to_contain_text(SHORT)
    page.goto(f"{p}/labels")
    settle(page)
    page.get_by_role("button", name=f"Edit label {XSS}p").click()
    expect(page.locator("dialog input[name=name]")).to_have_value(XSS + "p")
    assert_inert(page)
    page.keyboard.press("Escape")
    page.goto("/admin/replications")
    settle(page)
    expect(page.locator("#policies")).to_contain_text(XSS + hostile["name"])
    page.get_by_role("button", name=f"Edit policy {XSS}{hostile['name']}").click()
    expect(page.locator("dialog input[name=filter_name]")).to_have_value(XSS)
    assert_inert(page)
    page.keyboard.press("Escape")
    page.goto(f"{p}/immutability")
    settle(page)
    expect(page.locator("#immutable-rules")).to_contain_text(SHORT)
    page.get_by_role("button", name=re.compile("Edit immutable tag rule")).click()
    expect(page.locator("dialog input[name=repo_pattern]")).to_have_value(XSS)
    page.keyboard.press("Escape")
    page.goto(f"{p}/retention")
    settle(page)
    expect(page.locator("#retention-rules")).to_contain_text(SHORT)
    page.goto(f"{p}/webhooks")
    settle(page)
    expect(page.locator("#webhook-policies")).to_contain_text(XSS)
    page.get_by_role("button", name=f"Edit webhook {XSS}").click()
    expect(page.locator("dialog input[name=auth_header]")).to_have_value(XSS)
    expect(page.locator("dialog input[name=description]")).to_have_value(XSS)
    assert_inert(page)
    page.keyboard.press("Escape")
    page.click("#logout")
    sign_in(page, hostile["user"], "Passw0rd!x")
    page.goto("/account")
    settle(page)
    expect(page.locator("#profile-form input[name=realname]")).to_have_value(XSS)
    expect(page.locator("#profile-form input[name=comment]")).to_have_value(SHORT)
    assert_inert(page)
    context.close()
    watch.check()
