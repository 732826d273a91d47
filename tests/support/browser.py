"""Playwright helpers for the portal's browser tests: Debian's Chromium, sign-in, screenshots,
axe-core checks and an XSS trip-wire.

axe-core comes from npm (the version pinned in ``tests/e2e/package.json``), installed once
into a cache directory; it is injected with ``page.evaluate`` (a DevTools evaluation, so the
page's CSP, which refuses inline scripts, is not weakened for the test).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.support.servers import ADMIN_PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 20_000
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PACKAGE_JSON = ROOT / "tests" / "e2e" / "package.json"
# XSS payload: sets a flag and opens a dialog if any page ever runs it.
XSS = '<img src=x onerror="window.__xss=1;alert(1)">'


def launch(playwright) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def new_context(
    browser: Browser,
    base_url: str,
    phone: bool = False,
    bypass_csp: bool = False,
    dark: bool = False,
) -> BrowserContext:
    context = browser.new_context(
        color_scheme="dark" if dark else "light",
        base_url=base_url,
        viewport=PHONE if phone else DESKTOP,
        is_mobile=phone,
        has_touch=phone,
        device_scale_factor=1,
        bypass_csp=bypass_csp,
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    return context


def sign_in(
    page: Page, username: str = "admin", password: str = ADMIN_PASSWORD, path: str = "/"
) -> None:
    page.goto(path)
    page.fill("#login-form input[name=principal]", username)
    page.fill("#login-form input[name=password]", password)
    page.click("#login-form button[type=submit]")
    expect(page.locator("#who")).to_have_text(username)


def settle(page: Page) -> None:
    """Wait until the page shows no loading state."""
    page.wait_for_load_state("networkidle")
    expect(page.locator("main .state.loading")).to_have_count(0)


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _axe_version() -> str:
    return json.loads(PACKAGE_JSON.read_text())["dependencies"]["axe-core"]


def axe_source() -> str:
    """axe-core's browser bundle, installed with npm into a cache directory when missing."""
    version = _axe_version()
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    prefix = cache / "harbor-api-tests" / f"axe-core-{version}"
    bundle = prefix / "node_modules" / "axe-core" / "axe.min.js"
    if not bundle.is_file():
        npm = shutil.which("npm")
        assert npm, "the accessibility tests need npm (apt package npm) to fetch axe-core"
        prefix.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                npm,
                "install",
                "--no-audit",
                "--no-fund",
                "--no-save",
                "--prefix",
                str(prefix),
                f"axe-core@{version}",
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return bundle.read_text()


def axe_violations(page: Page, source: str) -> list[dict]:
    """Serious and critical axe-core violations of the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(source)
    results = page.evaluate("""async () => {
      const r = await axe.run(document, { resultTypes: ["violations"] });
      return r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ")) }));
    }""")
    return [v for v in results if v["impact"] in ("serious", "critical")]


class Watch:
    """Collects what must never happen on a page: dialogs, page errors, CSP refusals,
    requests to other origins."""

    def __init__(self, page: Page, origin: str) -> None:
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.outside: list[str] = []
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on(
            "console",
            lambda m: self.errors.append(m.text) if "Content Security Policy" in m.text else None,
        )
        page.on(
            "request",
            lambda r: (
                None
                if r.url.startswith(origin) or r.url.startswith("data:")
                else self.outside.append(r.url)
            ),
        )

    def check(self) -> None:
        assert self.dialogs == [], f"a dialog opened: {self.dialogs}"
        assert self.errors == [], f"page errors: {self.errors}"
        assert self.outside == [], f"the portal must work offline; it fetched {self.outside}"
