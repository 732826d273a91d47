"""Administration in the browser: users, groups, global labels, system settings, system info,
the dashboard's charts, LDAP configured (with "Test LDAP server") then used to sign in, a
registry endpoint (with "Test connection") and a replication to Debian's docker-registry with
its task log, a quota edited, and the audit log purge scheduled and dry-run."""

from __future__ import annotations

import re
import uuid

import pytest
import requests
from playwright.sync_api import expect, sync_playwright

from tests.support.browser import (
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
from tests.support.registry_clients import skopeo_list_tags
from tests.support.servers import ADMIN_PASSWORD, running_server
from tests.support.slapd import BASE_DN, SEARCH_DN, SEARCH_PASSWORD, USERS, group_dn, running_slapd

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, sqlite_server):
    context = new_context(browser, sqlite_server.url)
    page = context.new_page()
    watch = Watch(page, sqlite_server.url)
    yield page
    context.close()
    watch.check()


@pytest.fixture(scope="module")
def admin(sqlite_server):
    with ApiClient(sqlite_server.url, ("admin", ADMIN_PASSWORD)) as client:
        yield client


def confirm_dialog(page):
    page.locator("dialog #dialog-confirm").click()
    expect(page.locator("dialog")).to_have_count(0)


def test_users_create_admin_reset_and_delete(page, admin, sqlite_server):
    name = f"adm{uuid.uuid4().hex[:6]}"
    sign_in(page)
    page.goto("/admin/users")
    settle(page)
    page.click("#new-user")
    page.fill("dialog input[name=username]", name)
    page.fill("dialog input[name=email]", f"{name}@example.com")
    page.fill("dialog input[name=realname]", "New Person")
    page.fill("dialog input[name=password]", "weak")
    page.locator("dialog #dialog-confirm").click()
    expect(page.locator("dialog .error")).to_be_visible()  # the server's password rule
    page.fill("dialog input[name=password]", "Passw0rd!x")
    confirm_dialog(page)
    row = page.locator(f"#users tr[data-user='{name}']")
    expect(row).to_contain_text("New Person")
    row.get_by_role("button", name=f"Make {name} a system admin").click()
    expect(row).to_contain_text("admin")
    assert admin.get("/users/search", params={"username": name}).ok
    row.get_by_role("button", name=f"Reset the password of {name}").click()
    page.fill("dialog input[name=password]", "Res3tPassword!")
    confirm_dialog(page)
    assert (
        ApiClient(sqlite_server.url, (name, "Res3tPassword!"))
        .get("/users/current")
        .json()["sysadmin_flag"]
        is True
    )
    row.get_by_role("button", name=f"Delete user {name}").click()
    confirm_dialog(page)
    expect(row).to_have_count(0)


def test_labels_settings_system_info_and_dashboard(page, admin):
    sign_in(page)
    page.goto("/admin/labels")
    settle(page)
    label = f"global-{uuid.uuid4().hex[:6]}"
    page.click("#new-label")
    page.fill("dialog input[name=name]", label)
    page.fill("dialog input[name=description]", "everywhere")
    confirm_dialog(page)
    expect(page.locator(f"#labels tr[data-label='{label}']")).to_contain_text("everywhere")
    assert any(x["name"] == label for x in admin.get("/labels", params={"scope": "g"}).json())

    page.goto("/admin/configuration")
    settle(page)
    page.select_option("#config-form select[name=project_creation_restriction]", "adminonly")
    page.click("#config-form button[type=submit]")
    expect(page.locator(".toast").last).to_contain_text("Configuration saved.")
    cfg = admin.get("/configurations").json()
    assert cfg["project_creation_restriction"]["value"] == "adminonly"
    admin.put("/configurations", json={"project_creation_restriction": "everyone"})

    page.goto("/admin/system")
    expect(page.locator("#system-info")).to_contain_text("harbor_version")
    page.goto("/dashboard")
    settle(page)
    expect(page.locator("#statistics")).to_contain_text("Projects")
    expect(page.locator("#chart-activity svg rect").first).to_be_attached()
    expect(page.locator("#chart-storage")).to_be_attached()


def test_non_admin_sees_no_administration(page, admin):
    name = f"plain{uuid.uuid4().hex[:6]}"
    admin.post(
        "/users",
        json={
            "username": name,
            "email": f"{name}@example.com",
            "realname": name,
            "password": "Passw0rd!x",
        },
    )
    sign_in(page, name, "Passw0rd!x")
    expect(page.locator("#nav a[href='/admin']")).to_have_count(0)
    page.goto("/admin/users")
    expect(page.locator("main [role=alert]")).to_contain_text("system administrators")


@pytest.fixture(scope="module")
def ldap_server(tmp_path_factory):
    with running_slapd(tmp_path_factory.mktemp("slapd")) as directory:
        with running_server(tmp_path_factory.mktemp("server-ldap-portal")) as srv:
            yield srv, directory


def test_configure_ldap_test_it_and_sign_in_as_a_directory_user(browser, ldap_server):
    server, directory = ldap_server
    context = new_context(browser, server.url)
    page = context.new_page()
    watch = Watch(page, server.url)
    sign_in(page)
    page.goto("/admin/configuration")
    settle(page)
    form = page.locator("#config-form")
    form.locator("select[name=auth_mode]").select_option("ldap_auth")
    form.locator("input[name=ldap_url]").fill(directory.url)
    form.locator("input[name=ldap_search_dn]").fill(SEARCH_DN)
    form.locator("input[name=ldap_search_password]").fill("wrong-password")
    form.locator("input[name=ldap_base_dn]").fill(BASE_DN)
    form.locator("input[name=ldap_filter]").fill("(objectClass=inetOrgPerson)")
    form.locator("input[name=ldap_uid]").fill("uid")
    form.locator("select[name=ldap_scope]").select_option("2")
    page.click("#ldap-ping")
    expect(page.locator("#ldap-result")).to_contain_text("failed the test")
    form.locator("input[name=ldap_search_password]").fill(SEARCH_PASSWORD)
    page.click("#ldap-ping")
    expect(page.locator("#ldap-result")).to_have_text(re.compile("answered"))
    form.locator("button[type=submit]").click()
    expect(page.locator(".toast").last).to_contain_text("Configuration saved.")
    page.goto("/admin/groups")  # LDAP groups: known by their DN in the directory
    settle(page)
    page.click("#new-group")
    page.fill("dialog input[name=ldap_group_dn]", group_dn("harbor-admins"))
    confirm_dialog(page)
    expect(page.locator("#groups")).to_contain_text(group_dn("harbor-admins"))
    with ApiClient(server.url, ("admin", ADMIN_PASSWORD)) as api:
        assert api.post("/projects", json={"project_name": "teamwork"}).status_code == 201
        pid = api.get("/projects/teamwork").json()["project_id"]
    page.goto(f"/projects/{pid}/members")  # the group becomes a member
    settle(page)
    page.get_by_role("button", name="Add group").click()
    page.select_option("dialog select[name=role]", "4")
    confirm_dialog(page)
    expect(page.locator("#members tr[data-member=harbor-admins]")).to_contain_text("Group")
    page.click("#logout")
    alice = USERS["alice"]
    sign_in(page, alice.uid, alice.password)
    page.click("#who")
    expect(page.locator("#profile-form input[name=email]")).to_have_value(alice.mail)
    context.close()
    watch.check()


def test_system_robot_for_every_project(page, admin, sqlite_server):
    names = [f"sysrb-{uuid.uuid4().hex[:6]}" for _ in range(2)]
    for name in names:
        assert admin.post("/projects", json={"project_name": name}).status_code == 201
        Pusher(sqlite_server.url).image(f"{name}/app", "v1")
    sign_in(page)
    page.goto("/admin/robots")
    settle(page)
    robot = f"all{uuid.uuid4().hex[:6]}"
    page.click("#new-robot")
    page.fill("dialog input[name=name]", robot)
    expect(page.locator("dialog input[name=projects]")).to_have_value("*")
    page.locator("dialog #dialog-confirm").click()
    expect(page.locator("#robot-secret")).to_be_visible()
    login, secret = (
        page.locator("#robot-name").input_value(),
        page.locator("#robot-secret").input_value(),
    )
    page.locator("dialog #dialog-confirm").click()
    expect(page.locator(f"#robots tr[data-robot='{login}']")).to_contain_text("all projects")
    for name in names:
        ref = f"docker://{sqlite_server.host}/{name}/app"
        assert skopeo_list_tags(ref, f"{login}:{secret}") == ["v1"]


def test_registry_endpoint_replication_and_task_log(page, admin, sqlite_server, distribution):
    target = distribution  # Debian's docker-registry, the destination
    project = f"rep-{uuid.uuid4().hex[:6]}"
    assert admin.post("/projects", json={"project_name": project}).status_code == 201
    Pusher(sqlite_server.url).image(f"{project}/app", "v1")
    endpoint = f"dist-{uuid.uuid4().hex[:6]}"
    sign_in(page)
    page.goto("/admin/registries")
    settle(page)
    page.click("#new-registry")
    page.fill("dialog input[name=name]", endpoint)
    page.select_option("dialog select[name=type]", "docker-registry")
    page.fill("dialog input[name=url]", "http://127.0.0.1:1")  # nothing listens there
    page.click("dialog #ping-registry")
    expect(page.locator("#ping-result")).to_contain_text("Connection failed")
    page.fill("dialog input[name=url]", f"http://{target.host}")
    page.click("dialog #ping-registry")
    expect(page.locator("#ping-result")).to_contain_text("Connected")
    screenshot(page, "desktop-admin-registry-form")
    assert axe_violations(page, axe_source()) == []
    confirm_dialog(page)
    row = page.locator(f"#registries tr[data-registry='{endpoint}']")
    expect(row).to_contain_text(target.host)
    row.get_by_role("button", name=f"Test the connection to {endpoint}").click()
    expect(row).to_contain_text("healthy")

    policy = f"push-{uuid.uuid4().hex[:6]}"
    page.goto("/admin/replications")
    settle(page)
    page.click("#new-policy")
    page.fill("dialog input[name=name]", policy)
    page.select_option("dialog select[name=registry]", label=f"{endpoint} (http://{target.host})")
    page.fill("dialog input[name=filter_name]", f"{project}/**")
    page.fill("dialog input[name=filter_tag]", "v*")
    mirror = f"mirror{uuid.uuid4().hex[:6]}"
    page.fill("dialog input[name=dest_namespace]", mirror)
    screenshot(page, "desktop-admin-replication-policy-form")
    assert axe_violations(page, axe_source()) == []
    confirm_dialog(page)
    row = page.locator(f"#policies tr[data-policy='{policy}']")
    expect(row).to_contain_text("this registry")
    row.get_by_role("button", name=f"Start replication policy {policy}").click()
    first = page.locator("#executions tbody tr").first
    expect(first).to_contain_text(policy)
    first.locator("a").click()
    expect(page.locator("#execution .title-row")).to_contain_text("Succeeded")  # it polls
    task = page.locator("#tasks tbody tr").first
    expect(task).to_contain_text(f"{project}/app:v1")
    task.get_by_role("button", name=re.compile("Log of task")).click()
    expect(page.locator("#job-log")).to_contain_text("ended: success")
    screenshot(page, "desktop-admin-replication-task-log")
    assert axe_violations(page, axe_source()) == []
    confirm_dialog(page)
    tags = requests.get(f"http://{target.host}/v2/{mirror}/app/tags/list", timeout=10).json()
    assert tags["tags"] == ["v1"]

    page.goto("/admin/registries")  # edit; a delete while a policy uses it is refused
    row = page.locator(f"#registries tr[data-registry='{endpoint}']")
    row.get_by_role("button", name=f"Edit registry {endpoint}").click()
    page.fill("dialog input[name=description]", "the mirror")
    page.click("dialog #ping-registry")  # the stored endpoint, by id
    expect(page.locator("#ping-result")).to_contain_text("Connected")
    confirm_dialog(page)
    expect(row).to_contain_text("the mirror")
    row.get_by_role("button", name=f"Delete registry {endpoint}").click()
    confirm_dialog(page)
    expect(page.locator(".toast.error")).to_contain_text(policy)
    page.goto("/admin/replications")
    page.get_by_role("button", name=f"Delete policy {policy}").click()
    confirm_dialog(page)
    expect(page.locator(f"#policies tr[data-policy='{policy}']")).to_have_count(0)
    page.goto("/admin/registries")
    page.get_by_role("button", name=f"Delete registry {endpoint}").click()
    confirm_dialog(page)
    expect(page.locator(f"#registries tr[data-registry='{endpoint}']")).to_have_count(0)


def test_quota_limit_edited_and_shown(page, admin):
    name = f"quota-{uuid.uuid4().hex[:6]}"
    body = {"project_name": name, "storage_limit": 5 * 1024**3}
    assert admin.post("/projects", json=body).status_code == 201
    pid = admin.get(f"/projects/{name}").json()["project_id"]
    sign_in(page)
    page.goto("/admin/quotas")
    settle(page)
    row = page.locator(f"#quotas tr[data-quota='{name}']")
    expect(row).to_contain_text("of 5.00 GiB")
    row.get_by_role("button", name=f"Edit the storage limit of {name}").click()
    expect(page.locator("dialog input[name=amount]")).to_have_value("5")
    page.fill("dialog input[name=amount]", "2")
    page.select_option("dialog select[name=unit]", "TiB")
    confirm_dialog(page)
    expect(row).to_contain_text("of 2.00 TiB")
    (quota,) = admin.get("/quotas", params={"reference_id": str(pid)}).json()
    assert quota["hard"]["storage"] == 2 * 1024**4
    page.goto(f"/projects?q={name}")
    expect(page.locator(f"#projects tr[data-project='{name}']")).to_contain_text("of 2.00 TiB")
    page.goto(f"/projects/{pid}")
    expect(page.locator("#project-summary")).to_contain_text("of 2.00 TiB")


def test_audit_log_purge_schedule_dry_run_and_log(page, admin):
    sign_in(page)
    page.goto("/admin/purge")
    settle(page)
    form = page.locator("#purge-form")
    form.locator("input[name=retention]").fill("48")
    form.locator("select[name=type]").select_option("Custom")
    form.locator("input[name=cron]").fill("0 30 4 * * *")
    page.click("#purge-save")
    expect(page.locator("#purge-next")).to_contain_text("Next scheduled purge")
    schedule = admin.get("/system/purgeaudit/schedule").json()
    assert schedule["schedule"]["cron"] == "0 30 4 * * *"
    assert '"audit_retention_hour": 48' in schedule["job_parameters"]
    page.click("#purge-dry-run")
    run = page.locator("#purge-history tbody tr").first
    expect(run).to_contain_text("dry run: older than 48 h")
    expect(run).to_contain_text("Succeeded")  # the history refreshes itself while it runs
    run.get_by_role("button", name=re.compile("Log of purge run")).click()
    expect(page.locator("#job-log")).to_contain_text("started")
    confirm_dialog(page)
    page.locator("#purge-form select[name=type]").select_option("None")
    page.click("#purge-save")
    expect(page.locator("#purge-next")).to_contain_text("No purge is scheduled")


def test_execution_stopped_from_the_list(page, admin, sqlite_server):
    """A task to an endpoint that does not answer retries (5 s, then 10 s): the execution is
    in progress long enough to be stopped in the browser."""
    project = f"stop-{uuid.uuid4().hex[:6]}"
    assert admin.post("/projects", json={"project_name": project}).status_code == 201
    Pusher(sqlite_server.url).image(f"{project}/app", "v1")
    r = admin.post(
        "/registries",
        json={"name": f"gone-{project}", "type": "docker-registry", "url": "http://127.0.0.1:1"},
    )
    registry = int(r.headers["Location"].rsplit("/", 1)[1])
    r = admin.post(
        "/replication/policies",
        json={
            "name": f"stuck-{project}",
            "dest_registry": {"id": registry},
            "filters": [{"type": "name", "value": f"{project}/**"}],
            "enabled": True,
        },
    )
    policy = int(r.headers["Location"].rsplit("/", 1)[1])
    sign_in(page)  # first: the execution has about 15 s of retries to be stopped in
    r = admin.post("/replication/executions", json={"policy_id": policy})
    execution = r.headers["Location"].rsplit("/", 1)[1]
    page.goto(f"/admin/replications?policy={policy}")
    row = page.locator(f"#executions tr[data-execution='{execution}']")
    expect(row).to_contain_text("In progress")
    row.get_by_role("button", name=f"Stop execution #{execution}").click()
    confirm_dialog(page)
    expect(row).to_contain_text("Stopped")
    page.goto(f"/admin/replications/executions/{execution}")
    expect(page.locator("#tasks")).to_contain_text("Stopped")


def test_garbage_collection_dry_run_then_run_and_log(page, admin):
    sign_in(page)
    page.goto("/admin/gc")
    settle(page)
    form = page.locator("#gc-form")
    form.locator("input[name=delete_untagged]").check()
    form.locator("select[name=workers]").select_option("2")
    form.locator("select[name=type]").select_option("Daily")
    page.click("#gc-save")
    expect(page.locator("#gc-next")).to_contain_text("Next scheduled collection")
    schedule = admin.get("/system/gc/schedule").json()
    assert schedule["schedule"]["type"] == "Daily"
    assert '"workers": 2' in schedule["job_parameters"]
    page.click("#gc-dry-run")
    run = page.locator("#gc-history tbody tr").first
    expect(run).to_contain_text("dry run; untagged artifacts too; 2 worker(s)")
    expect(run).to_contain_text("Succeeded")  # the history refreshes itself while it runs
    page.click("#gc-now")
    confirm_dialog(page)
    # newest first: the real run replaces the dry run at the top (other modules' runs of
    # this shared server are further down)
    run = page.locator("#gc-history tbody tr").first
    expect(run).to_contain_text("collection; untagged")
    expect(run).to_contain_text("Succeeded")
    expect(run.locator("td").nth(4)).to_contain_text("B")  # the space freed, from its log
    run.get_by_role("button", name=re.compile("Log of garbage collection")).click()
    expect(page.locator("#job-log")).to_contain_text("the GC job freed up")
    confirm_dialog(page)
    page.locator("#gc-form select[name=type]").select_option("None")
    page.click("#gc-save")
    expect(page.locator("#gc-next")).to_contain_text("No garbage collection is scheduled")
