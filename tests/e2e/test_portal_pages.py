"""Every main page of the portal at desktop (1280 px) and phone (390 px) width, light and dark:
a screenshot each (``test-artifacts/screenshots/``), axe-core with no serious or critical
violation, and no sideways scrolling on a phone."""

from __future__ import annotations

import time
import uuid

import pytest
from playwright.sync_api import sync_playwright

from tests.support.browser import (
    SCREENSHOTS,
    Watch,
    axe_source,
    axe_violations,
    launch,
    new_context,
    screenshot,
    settle,
    sign_in,
)
from tests.support.clients import ApiClient
from tests.support.push import Pusher
from tests.support.servers import ADMIN_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def axe():
    return axe_source()


@pytest.fixture(scope="module")
def seeded(sqlite_server, distribution):
    """A project with an image, an index, a label, a member, a robot and a description; a
    replication of it to docker-registry, a dry-run audit log purge and a dry-run garbage
    collection."""
    name = f"pages-{uuid.uuid4().hex[:6]}"
    with ApiClient(sqlite_server.url, ("admin", ADMIN_PASSWORD)) as admin:
        assert admin.post("/projects", json={"project_name": name}).status_code == 201
        pid = admin.get(f"/projects/{name}").json()["project_id"]
        pusher = Pusher(sqlite_server.url)
        image = pusher.image(f"{name}/web", "1.0")
        pusher.index(f"{name}/web", "multi")
        admin.put(
            f"/projects/{name}/repositories/web",
            json={
                "description": "# Web\n\nThe **front end**.\n\n- runs `nginx`\n- see [docs](https://example.com)"
            },
        )
        label = admin.post(
            "/labels",
            json={
                "name": "release",
                "description": "shipped",
                "scope": "p",
                "project_id": pid,
                "color": "#2f7bbf",
            },
        )
        label_id = int(label.headers["Location"].rsplit("/", 1)[1])
        admin.post(
            f"/projects/{name}/repositories/web/artifacts/{image.digest}/labels",
            json={"id": label_id},
        )
        user = f"dev-{uuid.uuid4().hex[:6]}"
        admin.post(
            "/users",
            json={
                "username": user,
                "email": f"{user}@example.com",
                "realname": "Dev One",
                "password": "Passw0rd!x",
            },
        )
        admin.post(
            f"/projects/{pid}/members", json={"role_id": 2, "member_user": {"username": user}}
        )
        admin.post(
            "/robots",
            json={
                "name": "deploy",
                "level": "project",
                "duration": 30,
                "permissions": [
                    {
                        "kind": "project",
                        "namespace": name,
                        "access": [{"resource": "repository", "action": "pull"}],
                    }
                ],
            },
        )
        (quota,) = admin.get("/quotas", params={"reference_id": str(pid)}).json()
        admin.put(f"/quotas/{quota['id']}", json={"hard": {"storage": 16 * 1024}})  # a bar
        execution = replicated(admin, name, distribution)
        admin.post(
            "/system/purgeaudit/schedule",
            json={
                "schedule": {"type": "Manual"},
                "parameters": {"audit_retention_hour": 720, "dry_run": True},
            },
        )
        ids = policies(admin, name, pid)
        admin.post(
            "/system/gc/schedule",
            json={"schedule": {"type": "Manual"}, "parameters": {"dry_run": True}},
        )
    return {"id": pid, "name": name, "digest": image.digest, "execution": execution, **ids}


def policies(admin, project: str, pid: int) -> dict[str, int]:
    """An immutable tag rule, a retention policy dry-run once, and a webhook policy: the ids
    of the retention execution and of the webhook policy."""
    repo = {"repository": [{"kind": "doublestar", "decoration": "repoMatches", "pattern": "**"}]}
    admin.post(
        f"/projects/{project}/immutabletagrules",
        json={
            "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "1.*"}],
            "scope_selectors": repo,
        },
    )
    r = admin.post(
        "/retentions",
        json={
            "algorithm": "or",
            "scope": {"level": "project", "ref": pid},
            "trigger": {"kind": "Schedule", "settings": {"cron": "0 0 0 * * *"}},
            "rules": [
                {
                    "action": "retain",
                    "template": "latestPushedK",
                    "params": {"latestPushedK": 5},
                    "tag_selectors": [
                        {"kind": "doublestar", "decoration": "matches", "pattern": "**"}
                    ],
                    "scope_selectors": repo,
                }
            ],
        },
    )
    retention = int(r.headers["Location"].rsplit("/", 1)[1])
    r = admin.post(f"/retentions/{retention}/executions", json={"dry_run": True})
    execution = int(r.headers["Location"].rsplit("/", 1)[1])
    r = admin.post(
        f"/projects/{project}/webhook/policies",
        json={
            "name": "ci",
            "description": "tell the build server",
            "enabled": True,
            "event_types": ["PUSH_ARTIFACT", "DELETE_ARTIFACT"],
            "targets": [{"type": "http", "address": "http://127.0.0.1:9/hook"}],
        },
    )
    webhook = int(r.headers["Location"].rsplit("/", 1)[1])
    return {"retention_execution": execution, "webhook": webhook}


def replicated(admin, project: str, target) -> int:
    """A registry endpoint at Debian's docker-registry and a policy run once: the id of its
    finished execution (a task each for the image and the index)."""
    r = admin.post(
        "/registries",
        json={"name": f"mirror-{project}", "type": "docker-registry", "url": target.url},
    )
    registry = int(r.headers["Location"].rsplit("/", 1)[1])
    assert admin.post("/registries/ping", json={"id": registry}).status_code == 200
    r = admin.post(
        "/replication/policies",
        json={
            "name": f"to-mirror-{project}",
            "description": "every tag of the web repository",
            "dest_registry": {"id": registry},
            "filters": [{"type": "name", "value": f"{project}/**"}],
            "dest_namespace": "mirror",
            "override": True,
            "enabled": True,
        },
    )
    policy = int(r.headers["Location"].rsplit("/", 1)[1])
    r = admin.post("/replication/executions", json={"policy_id": policy})
    execution = int(r.headers["Location"].rsplit("/", 1)[1])
    deadline = time.monotonic() + 30
    while admin.get(f"/replication/executions/{execution}").json()["status"] == "InProgress":
        assert time.monotonic() < deadline, "the replication did not finish in 30 s"
        time.sleep(0.1)
    return execution


def pages(seeded) -> list[tuple[str, str]]:
    p = f"/projects/{seeded['id']}"
    repo = f"{p}/repositories/web"
    art = f"{repo}/artifacts/{seeded['digest']}"
    return (
        [("projects", "/"), ("project-summary", p)]
        + [
            (f"project-{tab}", f"{p}/{tab}")
            for tab in (
                "repositories",
                "members",
                "labels",
                "robots",
                "immutability",
                "retention",
                "webhooks",
                "logs",
                "configuration",
            )
        ]
        + [
            ("repository", repo),
            ("artifact", art),
            ("artifact-layers", art + "?tab=layers"),
            ("artifact-references", art + "?tab=references"),
            ("account", "/account"),
            ("search", "/search?q=web"),
            ("dashboard", "/dashboard"),
        ]
        + [
            (f"admin-{s}", f"/admin/{s}")
            for s in (
                "users",
                "groups",
                "robots",
                "registries",
                "replications",
                "labels",
                "quotas",
                "configuration",
                "logs",
                "purge",
                "gc",
                "system",
            )
        ]
        + [
            ("project-retention-tasks", f"{p}/retention?execution={seeded['retention_execution']}"),
            ("project-webhook-executions", f"{p}/webhooks?policy={seeded['webhook']}"),
        ]
        + [("admin-replication-execution", f"/admin/replications/executions/{seeded['execution']}")]
    )


@pytest.mark.parametrize("mode", ["desktop", "phone", "dark-phone"])
def test_every_main_page_is_accessible_and_photographed(browser, sqlite_server, seeded, axe, mode):
    context = new_context(browser, sqlite_server.url, phone="phone" in mode, dark="dark" in mode)
    page = context.new_page()
    watch = Watch(page, sqlite_server.url)
    problems: dict[str, list] = {}
    timings: list[float] = []  # the API's answers as the browser saw them, in ms
    page.goto("/login")
    settle(page)
    screenshot(page, f"{mode}-login")
    if found := axe_violations(page, axe):
        problems["login"] = found
    sign_in(page)
    for name, path in pages(seeded):
        page.goto(path)
        settle(page)
        page.wait_for_timeout(100)  # charts and the manifest fill in after the first paint
        screenshot(page, f"{mode}-{name}")
        timings += page.evaluate("""performance.getEntriesByType("resource")
          .filter(e => e.name.includes("/api/v2.0/")).map(e => e.responseEnd - e.requestStart)""")
        if found := axe_violations(page, axe):
            problems[name] = found
        if "phone" in mode:
            width = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if width > 1:
                problems.setdefault(name, []).append({"id": "sideways-scroll", "px": width})
    context.close()
    watch.check()
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1] if timings else 0.0
    report = SCREENSHOTS.parent / f"api-timings-{mode}.txt"
    report.write_text(
        f"{len(timings)} API requests, p50 {timings[len(timings) // 2]:.1f} ms, "
        f"p95 {p95:.1f} ms, max {timings[-1]:.1f} ms\n"
    )
    print(report.read_text())
    assert problems == {}
