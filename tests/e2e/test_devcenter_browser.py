"""The embedded Swagger UI in a real browser: Authorize with Basic, execute listProjects.

Playwright drives Debian's Chromium (``/usr/bin/chromium``) headless; Playwright's own browser
downloads are not used. The UI and its assets are served offline by the server itself.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.support.servers import ADMIN_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP harbor.test 127.0.0.1",
]
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, sqlite_server):
    # A non-loopback host name: Swagger UI treats localhost specially (no validator badge).
    origin = f"http://harbor.test:{sqlite_server.port}"
    context = browser.new_context(base_url=origin)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    outside: list[str] = []
    page.on(
        "request",
        lambda r: (
            None if r.url.startswith(origin) or r.url.startswith("data:") else outside.append(r.url)
        ),
    )
    refused: list[str] = []  # the pages' Content-Security-Policy must not block them
    page.on(
        "console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None
    )
    yield page
    context.close()
    assert outside == [], f"the UI must work offline; it fetched {outside}"
    assert refused == [], f"the page's CSP blocked: {refused}"


def authorize(page: Page, username: str, password: str) -> None:
    page.locator("button.authorize").first.click()
    dialog = page.locator(".modal-ux")
    dialog.locator("input[type=text]").first.fill(username)
    dialog.locator("input[type=password]").first.fill(password)
    dialog.locator("button.modal-btn.auth.authorize").click()
    expect(dialog.get_by_text("Authorized", exact=False).first).to_be_visible()
    dialog.locator("button.btn-done").click()


def execute(page: Page, tag: str, operation_id: str):
    block = page.locator(f"#operations-{tag}-{operation_id}")
    block.locator(".opblock-summary").first.click()
    block.locator("button.try-out__btn").click()
    block.locator("button.execute").click()
    return block.locator(".live-responses-table .response").first


def test_devcenter_serves_the_spec_offline(page):
    page.goto("/devcenter/")
    expect(page.locator(".information-container .title")).to_contain_text("harbor-api")
    expect(page.locator("#operations-project-listProjects")).to_be_visible()


def test_authorize_and_execute_list_projects(page):
    page.goto("/devcenter/")
    authorize(page, "admin", ADMIN_PASSWORD)
    response = execute(page, "project", "listProjects")
    expect(response.locator(".response-col_status")).to_have_text(re.compile(r"^\s*200"))
    body = response.locator(
        ".response-col_description pre.microlight, .response-col_description pre"
    ).first
    expect(body).to_contain_text('"library"')
    expect(response).to_contain_text("x-total-count")


def test_wrong_password_shows_401(page):
    page.goto("/devcenter/")
    authorize(page, "admin", "not-the-password")
    response = execute(page, "project", "listProjects")
    expect(response.locator(".response-col_status")).to_have_text(re.compile(r"^\s*401"))
    expect(response).to_contain_text("UNAUTHORIZED")


def test_portal_logs_in_lists_and_creates_projects(page):
    page.goto("/")
    page.fill("input[name=principal]", "admin")
    page.fill("input[name=password]", "wrong")
    page.click("#login-form button[type=submit]")
    expect(page.locator("#login-error")).to_have_text("Wrong user name or password.")

    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page.locator("#who")).to_have_text("admin")
    expect(page.locator("#projects tr[data-project=library]")).to_contain_text("public")

    name = f"portal-{uuid.uuid4().hex[:8]}"  # a cookie-authenticated write: needs the CSRF token
    page.fill("input[name=project_name]", name)
    page.click("#create-form button[type=submit]")
    expect(page.locator(f"#projects tr[data-project='{name}']")).to_contain_text("private")

    page.reload()  # the session cookie survives a reload
    expect(page.locator(f"#projects tr[data-project='{name}']")).to_be_visible()
    page.click("#logout")
    expect(page.locator("#login-form")).to_be_visible()
    page.reload()
    expect(page.locator("#login-form")).to_be_visible()
