"""A project's policies in the browser: tag immutability (a rule added, the tag then shown
immutable), tag retention (a policy created and dry-run, its task log read) and webhooks (a
policy to a local receiver, an image pushed, the last trigger and the execution's task log).

One browser for the module, one shared server; each test has its own context and project.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.support.browser import Watch, launch, new_context, screenshot, settle, sign_in
from tests.support.clients import ApiClient
from tests.support.push import Pusher
from tests.support.servers import ADMIN_PASSWORD
from tests.support.webhook_receiver import Receiver

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def admin(sqlite_server):
    with ApiClient(sqlite_server.url, ("admin", ADMIN_PASSWORD)) as client:
        yield client


@pytest.fixture
def page(browser, sqlite_server):
    context = new_context(browser, sqlite_server.url)
    page = context.new_page()
    watch = Watch(page, sqlite_server.url)
    yield page
    context.close()
    watch.check()


@pytest.fixture
def project(admin):
    name = f"pol-{uuid.uuid4().hex[:8]}"
    assert admin.post("/projects", json={"project_name": name}).status_code == 201
    return {"name": name, "id": admin.get(f"/projects/{name}").json()["project_id"]}


def confirm_dialog(page):
    page.locator("dialog #dialog-confirm").click()
    expect(page.locator("dialog")).to_have_count(0)


def test_immutable_rule_added_and_the_tag_shown_immutable(page, admin, project, sqlite_server):
    Pusher(sqlite_server.url).image(f"{project['name']}/app", "v1.0")
    sign_in(page)
    page.goto(f"/projects/{project['id']}/immutability")
    settle(page)
    page.click("#new-immutable-rule")
    page.fill("dialog input[name=repo_pattern]", "app")
    page.fill("dialog input[name=tag_pattern]", "v*")
    confirm_dialog(page)
    row = page.locator("#immutable-rules tbody tr").first
    expect(row).to_contain_text("repositories matching app; tags matching v*")
    (rule,) = admin.get(f"/projects/{project['name']}/immutabletagrules").json()
    assert rule["tag_selectors"][0]["pattern"] == "v*"
    page.goto(f"/projects/{project['id']}/repositories/app")
    chip = page.locator(".tag-chip[data-tag='v1.0']")
    expect(chip).to_contain_text("immutable")
    expect(chip.get_by_role("button")).to_have_count(0)  # no remove button on it
    page.goto(f"/projects/{project['id']}/repositories/app/artifacts/v1.0?tab=tags")
    expect(page.locator("#tags")).to_contain_text("immutable")
    page.goto(f"/projects/{project['id']}/immutability")
    row.get_by_role("button", name=f"Disable immutable tag rule #{rule['id']}").click()
    expect(row).to_contain_text("disabled")
    page.goto(f"/projects/{project['id']}/repositories/app")
    expect(page.locator(".tag-chip[data-tag='v1.0'] button")).to_have_count(1)


def test_retention_policy_created_dry_run_and_task_log(page, admin, project, sqlite_server):
    pusher = Pusher(sqlite_server.url)
    for tag in ("v1", "v2", "v3"):
        pusher.image(f"{project['name']}/svc", tag)
    sign_in(page)
    page.goto(f"/projects/{project['id']}/retention")
    settle(page)
    page.click("#add-retention-rule")
    page.select_option("dialog select[name=template]", "latestPushedK")
    page.fill("dialog input[name=amount]", "2")
    page.fill("dialog input[name=tag_pattern]", "v*")
    screenshot(page, "desktop-dialog-retention-rule")
    confirm_dialog(page)
    expect(page.locator("#retention-rules")).to_contain_text("the 2 most recently pushed")
    retention_id = admin.get(f"/projects/{project['name']}").json()["metadata"]["retention_id"]
    policy = admin.get(f"/retentions/{retention_id}").json()
    assert policy["rules"][0]["params"] == {"latestPushedK": 2}
    page.click("#retention-dry-run")
    run = page.locator("#retention-executions tbody tr").first
    expect(run).to_contain_text("Succeeded")  # refreshed while it runs
    run.get_by_role("button", name=re.compile("Tasks of execution")).click()
    task = page.locator("#retention-tasks tr[data-task='svc']")
    expect(task).to_contain_text("2 of 3")
    task.get_by_role("button", name="Retention log of svc").click()
    expect(page.locator("#job-log")).to_contain_text("DEL")
    expect(page.locator("#job-log")).to_contain_text("RETAIN")
    confirm_dialog(page)
    assert len(admin.get(f"/projects/{project['name']}/repositories/svc/artifacts").json()) == 3
    page.get_by_role("button", name="Edit retention rule 1").click()
    expect(page.locator("dialog input[name=amount]")).to_have_value("2")
    page.fill("dialog input[name=amount]", "1")
    confirm_dialog(page)
    expect(page.locator("#retention-rules")).to_contain_text("the 1 most recently pushed")
    policy = admin.get(f"/retentions/{retention_id}").json()
    assert policy["rules"][0]["params"] == {"latestPushedK": 1}


def test_webhook_to_a_local_receiver_last_trigger_and_task_log(page, admin, project, sqlite_server):
    sign_in(page)
    page.goto(f"/projects/{project['id']}/webhooks")
    settle(page)
    with Receiver() as receiver:
        page.click("#new-webhook")
        page.fill("dialog input[name=name]", "ci")
        page.fill("dialog input[name=address]", receiver.url + "/hook")
        page.fill("dialog input[name=auth_header]", "Bearer s3cret")
        page.select_option("dialog select[name=payload_format]", "CloudEvents")
        screenshot(page, "desktop-dialog-webhook")
        confirm_dialog(page)
        row = page.locator("#webhook-policies tr[data-policy='ci']")
        expect(row).to_contain_text("Artifact pushed")
        expect(page.locator("#webhook-last-trigger")).to_contain_text("never")
        Pusher(sqlite_server.url).image(f"{project['name']}/app", "v1")
        (delivery,) = receiver.wait_for(1)
        assert delivery.headers["authorization"] == "Bearer s3cret"
        assert delivery.json()["type"] == "harbor.artifact.pushed"
    page.reload()
    settle(page)
    expect(page.locator("#webhook-last-trigger")).not_to_contain_text("never")
    row.get_by_role("button", name="Executions of webhook ci").click()
    run = page.locator("#webhook-executions tbody tr").first
    expect(run).to_contain_text("Artifact pushed")
    expect(run).to_contain_text("Succeeded")
    run.get_by_role("button", name=re.compile("Deliveries of execution")).click()
    task = page.locator("#webhook-tasks tbody tr").first
    expect(task).to_contain_text("/hook")
    task.get_by_role("button", name=re.compile("Log of delivery")).click()
    expect(page.locator("#job-log")).to_contain_text("200")
    confirm_dialog(page)
    row.get_by_role("button", name="Disable webhook ci").click()
    expect(row).to_contain_text("disabled")
    (policy,) = admin.get(f"/projects/{project['name']}/webhook/policies").json()
    assert policy["enabled"] is False
    assert policy["targets"][0]["payload_format"] == "CloudEvents"
    row.get_by_role("button", name="Delete webhook ci").click()
    confirm_dialog(page)
    expect(row).to_have_count(0)
