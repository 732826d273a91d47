"""The portal in a real browser (Debian's Chromium, headless): sign-in, projects, images pushed
with real clients, members, robots, tags, labels, audit log, the Swagger UI on the same session.

One browser for the module, one shared server; each test has its own browser context.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.support.browser import Watch, launch, new_context, settle, sign_in
from tests.support.clients import ApiClient
from tests.support.images import OciLayout
from tests.support.push import Pusher
from tests.support.registry_clients import skopeo_copy, skopeo_list_tags
from tests.support.servers import ADMIN_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


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
    name = unique("web")
    r = admin.post("/projects", json={"project_name": name, "metadata": {"public": "false"}})
    assert r.status_code == 201, r.text
    project_id = admin.get(f"/projects/{name}").json()["project_id"]
    return {"name": name, "id": project_id}


def open_project(page, project, tab=""):
    page.goto(f"/projects/{project['id']}" + (f"/{tab}" if tab else ""))
    settle(page)


def confirm_dialog(page):
    page.locator("dialog #dialog-confirm").click()
    expect(page.locator("dialog")).to_have_count(0)


def test_sign_in_deep_link_reload_back_and_sign_out(page, project):
    page.goto(f"/projects/{project['id']}/members")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("input[name=principal]", "admin")
    page.fill("input[name=password]", "wrong")
    page.click("#login-form button[type=submit]")
    expect(page.locator("#login-error")).to_have_text("Wrong user name or password.")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("#login-form button[type=submit]")
    # Back to the deep link asked for before signing in.
    expect(page).to_have_url(re.compile(rf"/projects/{project['id']}/members$"))
    expect(page.locator("#members tr[data-member=admin]")).to_be_visible()
    page.reload()
    expect(page.locator("#members tr[data-member=admin]")).to_be_visible()
    page.locator("a[data-tab=labels]").click()
    expect(page).to_have_url(re.compile(r"/labels$"))
    expect(page.locator("#tab-labels")).to_be_visible()
    page.go_back()
    expect(page.locator("#tab-members")).to_be_visible()
    page.click("#logout")
    expect(page.locator("#login-form")).to_be_visible()
    page.goto(f"/projects/{project['id']}")
    expect(page.locator("#login-form")).to_be_visible()


def test_profile_and_password_change(page, admin, sqlite_server):
    name = unique("user")
    r = admin.post(
        "/users",
        json={
            "username": name,
            "email": f"{name}@example.com",
            "realname": "Before",
            "password": "Passw0rd!x",
        },
    )
    assert r.status_code == 201, r.text
    sign_in(page, name, "Passw0rd!x")
    page.click("#who")
    form = page.locator("#profile-form")
    expect(form.locator("input[name=realname]")).to_have_value("Before")
    form.locator("input[name=realname]").fill("After Name")
    form.locator("input[name=comment]").fill("a comment")
    form.locator("input[name=email]").fill(f"{name}@example.org")
    form.locator("button[type=submit]").click()
    expect(page.locator(".toast")).to_contain_text("Profile saved.")
    me = ApiClient(sqlite_server.url, (name, "Passw0rd!x")).get("/users/current").json()
    assert (me["realname"], me["comment"], me["email"]) == (
        "After Name",
        "a comment",
        f"{name}@example.org",
    )

    pw = page.locator("#password-form")
    pw.locator("input[name=old_password]").fill("wrong-Passw0rd")
    pw.locator("input[name=new_password]").fill("N3wPassword!")
    pw.locator("input[name=repeat]").fill("N3wPassword!")
    pw.locator("button[type=submit]").click()
    expect(pw.locator(".error")).to_be_visible()  # the server's refusal, in words
    pw.locator("input[name=old_password]").fill("Passw0rd!x")
    pw.locator("button[type=submit]").click()
    expect(page.locator(".toast").last).to_contain_text("Password changed.")
    page.click("#logout")
    sign_in(page, name, "N3wPassword!")


def test_create_search_and_delete_project(page, admin):
    sign_in(page)
    name_input = page.locator("#create-form input[name=project_name]")
    name_input.fill("Bad Name")
    assert name_input.evaluate("e => e.validity.valid") is False  # checked in the browser
    page.click("#create-form button[type=submit]")
    expect(page.locator("#create-error")).to_be_hidden()
    name = unique("made")
    name_input.fill(name)
    page.check("#create-form input[name=public]")
    page.click("#create-form button[type=submit]")
    row = page.locator(f"#projects tr[data-project='{name}']")
    expect(row).to_contain_text("public")
    expect(page.locator("#project-count")).to_have_text(re.compile(r"\(\d+\)"))

    page.fill("input[name=q]", name)
    page.press("input[name=q]", "Enter")
    expect(page).to_have_url(re.compile(r"[?&]q="))
    expect(page.locator("#projects tbody tr")).to_have_count(1)
    page.fill("input[name=q]", "no-such-project-anywhere")
    page.press("input[name=q]", "Enter")
    expect(page.locator("#project-list")).to_contain_text("No project matches.")
    page.go_back()
    row.get_by_role("button", name=f"Delete project {name}").click()
    expect(page.locator("dialog")).to_contain_text(name)
    page.keyboard.press("Escape")  # cancel keeps it
    expect(row).to_be_visible()
    row.get_by_role("button", name=f"Delete project {name}").click()
    confirm_dialog(page)
    expect(row).to_have_count(0)
    assert admin.get(f"/projects/{name}").status_code == 404


def test_pushed_image_tags_size_architecture_and_pull_command(
    page, admin, project, sqlite_server, tmp_path
):
    layout = OciLayout(tmp_path / "img")
    layout.add_image("v1", layers=2)
    ref = f"docker://{sqlite_server.host}/{project['name']}/app"
    skopeo_copy(f"oci:{layout.path}:v1", f"{ref}:v1", dest_creds=f"admin:{ADMIN_PASSWORD}")
    skopeo_copy(f"oci:{layout.path}:v1", f"{ref}:stable", dest_creds=f"admin:{ADMIN_PASSWORD}")
    Pusher(sqlite_server.url).index(f"{project['name']}/app", "multi")
    arts = admin.get(
        f"/projects/{project['name']}/repositories/app/artifacts", params={"with_tag": "true"}
    ).json()
    image = next(a for a in arts if any(t["name"] == "v1" for t in a["tags"]))

    sign_in(page)
    open_project(page, project, "repositories")
    page.locator("#repositories a", has_text=f"{project['name']}/app").click()
    expect(page.locator("#repo-name")).to_have_text(f"{project['name']}/app")
    settle(page)
    row = page.locator(f"#artifacts tr[data-digest='{image['digest']}']")
    expect(row.locator(".tag-chip[data-tag=v1]")).to_be_visible()
    expect(row.locator(".tag-chip[data-tag=stable]")).to_be_visible()
    expect(row.locator("td[data-label='OS/Architecture']")).to_have_text(
        f"{image['extra_attrs']['os']}/{image['extra_attrs']['architecture']}"
    )
    size = image["size"]
    kib = size / 1024
    shown = f"{size} B" if size < 1024 else f"{kib:.2f} KiB" if kib < 10 else f"{kib:.1f} KiB"
    expect(row.locator("td[data-label=Size]")).to_have_text(shown)
    expect(row.locator("td[data-label=Size] span")).to_have_attribute("title", f"{size} bytes")
    expect(row.locator("td[data-label=Type]")).to_have_text("Image")

    page.fill("#tag-filter input[name=tag]", "stab")
    page.press("#tag-filter input[name=tag]", "Enter")
    expect(page.locator("#artifacts tbody tr")).to_have_count(1)
    page.go_back()
    expect(page.locator("#artifacts tbody tr:not(.children)")).to_have_count(2)
    index = page.locator("#artifacts tr", has=page.locator(".tag-chip[data-tag=multi]"))
    expect(index.locator("td[data-label=Type]")).to_have_text("Index")
    index.get_by_role("button", name="2 platforms").click()
    children = index.locator("xpath=following-sibling::tr[1]")
    expect(children).to_contain_text("linux/amd64")
    expect(children).to_contain_text("linux/arm64")

    row.locator("details.pull summary").click()
    command = f"docker pull {sqlite_server.host}/{project['name']}/app:v1"
    row.get_by_role("button", name=f"Copy “{command}”").click()
    assert page.evaluate("navigator.clipboard.readText()") == command
    expect(row.locator("code.command[data-kind=digest]")).to_have_text(
        f"docker pull {sqlite_server.host}/{project['name']}/app@{image['digest']}"
    )

    row.locator("a", has_text=image["digest"][7:19]).click()  # the artifact page
    expect(page.locator("#artifact-title")).to_have_text(image["digest"][7:19])
    expect(page.locator("main")).to_contain_text("OS/Architecture")
    expect(page.locator("#manifest")).to_contain_text('"layers"', use_inner_text=False)
    page.locator("a[data-tab=layers]").click()
    expect(page.locator("#layers tbody tr")).to_have_count(2)
    page.reload()
    expect(page.locator("#layers tbody tr")).to_have_count(2)


def test_add_change_and_remove_member(page, admin, project):
    name = unique("member")
    assert admin.post(
        "/users",
        json={
            "username": name,
            "email": f"{name}@example.com",
            "realname": name,
            "password": "Passw0rd!x",
        },
    ).ok
    sign_in(page)
    open_project(page, project, "members")
    page.click("#add-member")
    page.fill("dialog input[name=username]", name[:9])
    expect(page.locator(f"#user-suggestions option[value='{name}']")).to_be_attached()
    page.fill("dialog input[name=username]", name)
    page.select_option("dialog select[name=role]", "2")
    confirm_dialog(page)
    row = page.locator(f"#members tr[data-member='{name}']")
    expect(row.locator("select")).to_have_value("2")
    row.locator("select").select_option("3")
    expect(page.locator(".toast").last).to_contain_text("Role changed.")
    members = admin.get(f"/projects/{project['id']}/members").json()
    assert next(m for m in members if m["entity_name"] == name)["role_id"] == 3
    row.get_by_role("button", name=f"Remove member {name}").click()
    confirm_dialog(page)
    expect(row).to_have_count(0)


def test_robot_secret_works_with_skopeo_then_refresh_and_disable(
    page, project, sqlite_server, tmp_path
):
    sign_in(page)
    open_project(page, project, "robots")
    page.click("#new-robot")
    page.fill("dialog input[name=name]", "ci")
    page.check("dialog input[value='repository:push']")
    page.locator("dialog #dialog-confirm").click()
    expect(page.locator("#robot-secret")).to_be_visible()  # the second dialog: shown once
    name = page.locator("#robot-name").input_value()
    secret = page.locator("#robot-secret").input_value()
    assert name.endswith(f"{project['name']}+ci") and len(secret) >= 16
    page.get_by_role("button", name="Copy the secret").click()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    page.locator("dialog #dialog-confirm").click()

    layout = OciLayout(tmp_path / "img")
    layout.add_image("v1", layers=1)
    ref = f"docker://{sqlite_server.host}/{project['name']}/by-robot"
    skopeo_copy(f"oci:{layout.path}:v1", f"{ref}:v1", dest_creds=f"{name}:{secret}")
    assert skopeo_list_tags(ref, f"{name}:{secret}") == ["v1"]

    row = page.locator(f"#robots tr[data-robot='{name}']")
    row.get_by_role("button", name=f"New secret for robot {name}").click()
    page.locator("dialog #dialog-confirm").click()
    expect(page.locator("#robot-secret")).not_to_have_value(secret)
    fresh = page.locator("#robot-secret").input_value()
    assert fresh != secret
    page.locator("dialog #dialog-confirm").click()
    with pytest.raises(AssertionError):
        skopeo_list_tags(ref, f"{name}:{secret}")
    assert skopeo_list_tags(ref, f"{name}:{fresh}") == ["v1"]
    row.get_by_role("button", name=f"Disable robot {name}").click()
    expect(row).to_contain_text("disabled")
    with pytest.raises(AssertionError):
        skopeo_list_tags(ref, f"{name}:{fresh}")


def test_tags_labels_and_artifact_delete(page, admin, project, sqlite_server):
    pushed = Pusher(sqlite_server.url).image(f"{project['name']}/tagged", "one")
    label = unique("lbl")
    assert admin.post(
        "/labels",
        json={"name": label, "scope": "p", "project_id": project["id"], "color": "#aa3300"},
    ).ok
    sign_in(page)
    page.goto(f"/projects/{project['id']}/repositories/tagged")
    settle(page)
    short = pushed.digest[7:19]
    row = page.locator(f"#artifacts tr[data-digest='{pushed.digest}']")
    row.get_by_role("button", name=f"Add a tag to artifact {short}").click()
    page.fill("dialog input[name=tag]", "two")
    confirm_dialog(page)
    expect(row.locator(".tag-chip[data-tag=two]")).to_be_visible()
    row.get_by_role("button", name="Remove tag one").click()
    confirm_dialog(page)
    expect(row.locator(".tag-chip[data-tag=one]")).to_have_count(0)
    tags = admin.get(
        f"/projects/{project['name']}/repositories/tagged/artifacts/{pushed.digest}/tags"
    ).json()
    assert [t["name"] for t in tags] == ["two"]

    row.get_by_role("button", name=f"Add a label to artifact {short}").click()
    page.select_option("dialog select[name=label]", label=label)
    confirm_dialog(page)
    expect(row.locator(f".chip-wrap[data-label='{label}']")).to_be_visible()
    row.get_by_role("button", name=f"Remove label {label}").click()
    expect(row.locator(f".chip-wrap[data-label='{label}']")).to_have_count(0)

    row.get_by_role("button", name=f"Delete artifact {short}").click()
    confirm_dialog(page)
    expect(page.locator("#artifact-list")).to_contain_text("No artifacts yet")
    r = admin.get(f"/projects/{project['name']}/repositories/tagged/artifacts/{pushed.digest}")
    assert r.status_code == 404


def test_audit_log_with_filters(page, project, sqlite_server):
    Pusher(sqlite_server.url).image(f"{project['name']}/logged", "v1")
    sign_in(page)
    open_project(page, project, "logs")
    log = page.locator("#audit-log")
    expect(log).to_contain_text(f"{project['name']}/logged:v1")
    page.select_option("#log-filters select[name=operation]", "delete")
    page.click("#log-filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"operation=delete"))
    expect(page.locator("#tab-logs")).to_contain_text("No log entries.")
    page.select_option("#log-filters select[name=operation]", "create")
    page.fill("#log-filters input[name=resource]", "logged")
    page.click("#log-filters button[type=submit]")
    expect(log.locator("tbody tr")).to_have_count(1)
    page.goto("/admin/logs")
    expect(page.locator("#audit-log")).to_contain_text("login")


def test_swagger_try_it_out_after_portal_sign_in(page, admin, project):
    sign_in(page)
    page.goto("/devcenter/")
    block = page.locator("#operations-project-listProjects")
    block.locator(".opblock-summary").first.click()
    block.locator("button.try-out__btn").click()
    # other modules' projects share this server: ask for ours by name (one page holds it)
    block.locator("tr[data-param-name=name] input").fill(project["name"])
    block.locator("button.execute").click()
    response = block.locator(".live-responses-table .response").first
    expect(response.locator(".response-col_status")).to_have_text(re.compile(r"^\s*200"))
    expect(response).to_contain_text(project["name"])  # a private project: the session counts

    # A write: the interceptor adds the CSRF header from the portal's login.
    block = page.locator("#operations-project-deleteProject")
    block.locator(".opblock-summary").first.click()
    block.locator("button.try-out__btn").click()
    block.locator("tr[data-param-name=project_name_or_id] input").fill(project["name"])
    block.locator("button.execute").click()
    response = block.locator(".live-responses-table .response").first
    expect(response.locator(".response-col_status")).to_have_text(re.compile(r"^\s*200"))
    assert admin.get(f"/projects/{project['name']}").status_code == 404
    assert page.evaluate("Object.keys(localStorage)") == []


def test_harbor_bookmark_lands_on_our_repository_page(page, project, sqlite_server):
    Pusher(sqlite_server.url).image(f"{project['name']}/team/app", "v1")
    sign_in(page)
    page.goto(f"/harbor/projects/{project['id']}/repositories/team%252Fapp/artifacts-tab")
    expect(page.locator("#repo-name")).to_have_text(f"{project['name']}/team/app")
    expect(page).to_have_url(re.compile(rf"/projects/{project['id']}/repositories/team%2Fapp$"))


def test_description_markdown_copy_artifact_references_and_accessories(
    page, admin, project, sqlite_server
):
    pusher = Pusher(sqlite_server.url)
    image = pusher.image(f"{project['name']}/src", "v1", author="Portal Tester")
    pusher.signature(f"{project['name']}/src", image.digest)
    index = pusher.index(f"{project['name']}/src", "multi")
    sign_in(page)
    page.goto(f"/projects/{project['id']}/repositories/src")
    settle(page)
    expect(page.locator("#repo-description")).to_contain_text("No description yet.")
    page.click("#edit-description")
    page.fill("dialog textarea[name=description]", "## Usage\n\nRun **it** with `--help`.")
    confirm_dialog(page)
    description = page.locator("#repo-description")
    expect(description.locator("h4")).to_have_text("Usage")  # below the page's h1 and h2
    expect(description.locator("strong")).to_have_text("it")
    expect(description.locator("code")).to_have_text("--help")

    row = page.locator(f"#artifacts tr[data-digest='{image.digest}']")
    expect(row.locator("td[data-label=Accessories]")).to_have_text("Signature")
    short = image.digest[7:19]
    row.get_by_role("button", name=f"Copy artifact {short} to another repository").click()
    page.fill("dialog input[name=project]", project["name"])
    page.fill("dialog input[name=repository]", "copied")
    confirm_dialog(page)
    copied = admin.get(f"/projects/{project['name']}/repositories/copied/artifacts").json()
    assert [a["digest"] for a in copied] == [image.digest]

    page.goto(f"/projects/{project['id']}/repositories/src/artifacts/{image.digest}")
    settle(page)
    expect(page.locator("main")).to_contain_text("Portal Tester")  # the config's author
    page.locator("a[data-tab=accessories]").click()
    expect(page.locator("#accessories tbody tr")).to_have_count(1)
    page.goto(f"/projects/{project['id']}/repositories/src/artifacts/{index.digest}?tab=references")
    refs = page.locator("#references tbody tr")
    expect(refs).to_have_count(2)
    expect(page.locator("#references")).to_contain_text("linux/arm64")
    refs.first.locator("a").click()
    expect(page.locator("#artifact-title")).to_have_text(index.children[0].digest[7:19])


def test_keyboard_only_sign_in_and_navigation(page, project):
    page.goto("/")
    page.locator("input[name=principal]").focus()
    page.keyboard.type("admin")
    page.keyboard.press("Tab")
    page.keyboard.type(ADMIN_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("#who")).to_have_text("admin")
    # other modules' projects share this server: find ours with the search box, by keyboard
    page.locator("form[role=search] input[name=q]").focus()
    page.keyboard.type(project["name"])
    page.keyboard.press("Enter")
    link = page.locator("#projects a", has_text=project["name"])
    link.focus()
    outline = link.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline != "none"  # focus is visible
    page.keyboard.press("Enter")
    expect(page.locator("#project-name")).to_have_text(project["name"])
    page.locator("a[data-tab=members]").focus()
    page.keyboard.press("Enter")
    page.locator("#add-member").focus()
    page.keyboard.press("Enter")
    expect(page.locator("dialog input[name=username]")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("dialog")).to_have_count(0)
    expect(page.locator("#add-member")).to_be_focused()  # focus returns to the opener


def test_phone_width_repository_flow(browser, sqlite_server, project):
    Pusher(sqlite_server.url).image(f"{project['name']}/mobile", "v1")
    context = new_context(browser, sqlite_server.url, phone=True)
    page = context.new_page()
    watch = Watch(page, sqlite_server.url)
    sign_in(page)
    page.locator("#projects a", has_text=project["name"]).click()
    page.locator("a[data-tab=repositories]").click()
    page.locator("#repositories a", has_text="mobile").click()
    row = page.locator("#artifacts tbody tr").first
    expect(row.locator(".tag-chip[data-tag=v1]")).to_be_visible()
    row.locator("details.pull summary").click()
    command = f"podman pull {sqlite_server.host}/{project['name']}/mobile:v1"
    row.get_by_role("button", name=f"Copy “{command}”").click()
    assert page.evaluate("navigator.clipboard.readText()") == command
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()
    watch.check()


def test_project_configuration_and_labels_tabs(page, admin, project):
    sign_in(page)
    open_project(page, project, "configuration")
    page.check("#project-config input[name=public]")
    page.click("#project-config button[type=submit]")
    expect(page.locator(".title-row .badge")).to_have_text("public")
    assert admin.get(f"/projects/{project['id']}").json()["metadata"]["public"] == "true"
    page.locator("a[data-tab=labels]").click()
    page.click("#new-label")
    page.fill("dialog input[name=name]", "qa-approved")
    confirm_dialog(page)
    expect(page.locator("#labels tr[data-label=qa-approved]")).to_be_visible()
    page.get_by_role("button", name="Edit label qa-approved").click()
    page.fill("dialog input[name=description]", "passed QA")
    confirm_dialog(page)
    expect(page.locator("#labels tr[data-label=qa-approved]")).to_contain_text("passed QA")
    page.get_by_role("button", name="Delete label qa-approved").click()
    confirm_dialog(page)
    expect(page.locator("#labels")).to_have_count(0)
    page.locator("a[data-tab=summary]").click()
    expect(page.locator("#project-summary")).to_contain_text("Project admin")


def test_errors_and_empty_states_in_plain_words(page, admin, project):
    sign_in(page)
    page.goto("/projects/987654")
    expect(page.locator("main [role=alert]")).to_contain_text("not found")
    page.goto("/projects/1/no-such-tab")
    expect(page.locator("main")).to_contain_text("There is no such page.")
    page.goto("/nowhere-at-all")
    expect(page.locator("main")).to_contain_text("There is no such page.")  # the server: 404
    page.goto(f"/projects/{project['id']}/repositories")
    expect(page.locator("#tab-repositories")).to_contain_text("No repositories yet")
    page.goto(f"/projects/{project['id']}/repositories/missing")
    expect(page.locator("main [role=alert]")).to_be_visible()


def test_project_paging_sorting_and_access_filter(page, admin):
    prefix = unique("pg")
    for n in range(17):
        public = "true" if n % 4 == 0 else "false"
        assert (
            admin.post(
                "/projects",
                json={"project_name": f"{prefix}-{n:02d}", "metadata": {"public": public}},
            ).status_code
            == 201
        )
    sign_in(page)
    page.goto(f"/projects?q={prefix}")
    settle(page)
    expect(page.locator("#project-count")).to_have_text("(17)")  # X-Total-Count
    expect(page.locator("#projects tbody tr")).to_have_count(15)
    expect(page.locator(".pager")).to_contain_text("Page 1 of 2")
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#projects tbody tr")).to_have_count(2)
    expect(page.locator("#projects tbody tr").first).to_have_attribute(
        "data-project", f"{prefix}-15"
    )
    page.go_back()
    expect(page.locator("#projects tbody tr")).to_have_count(15)
    page.select_option("select[name=sort]", "-creation_time")
    expect(page.locator("#projects tbody tr").first).to_have_attribute(
        "data-project", f"{prefix}-16"
    )
    page.select_option("select[name=public]", "true")
    expect(page.locator("#project-count")).to_have_text("(5)")
    page.reload()  # the list's state is in the URL
    expect(page.locator("select[name=public]")).to_have_value("true")
    expect(page.locator("#projects tbody tr")).to_have_count(5)


def test_swagger_authorize_keeps_basic_credentials_out_of_local_storage(page):
    page.goto("/devcenter/")
    page.locator("button.authorize").first.click()
    dialog = page.locator(".modal-ux")
    dialog.locator("input[type=text]").first.fill("admin")
    dialog.locator("input[type=password]").first.fill(ADMIN_PASSWORD)
    dialog.locator("button.modal-btn.auth.authorize").click()
    expect(dialog.get_by_text("Authorized", exact=False).first).to_be_visible()
    dialog.locator("button.btn-done").click()
    stored = page.evaluate("JSON.stringify(Object.assign({}, localStorage))")
    assert ADMIN_PASSWORD not in stored and "authorized" not in stored


def test_header_search_finds_projects_and_repositories(page, project, sqlite_server):
    Pusher(sqlite_server.url).image(f"{project['name']}/findme", "v1")
    sign_in(page)
    page.fill(".top-search input[name=search]", project["name"])
    page.press(".top-search input[name=search]", "Enter")
    expect(page).to_have_url(re.compile(r"/search\?q="))
    expect(page.locator("#search-projects")).to_contain_text(project["name"])
    page.locator("#search-repositories a", has_text="findme").click()
    expect(page.locator("#repo-name")).to_have_text(f"{project['name']}/findme")
    page.go_back()
    expect(page.locator("#search-repositories")).to_contain_text("findme")
