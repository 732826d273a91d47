"""Tag retention (``/retentions…``, Harbor's shapes): policies per project with the
``retention_id`` metadata, the rule templates and selectors, dry runs and real runs over
images pushed through ``/v2`` (the same selection; a real run deletes exactly what the dry
run listed), schedules that fire, stop, tasks and logs, and who may do what."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import delete, update

from harbor_api.db.models import Execution, Schedule
from tests.support.clients import ApiClient
from tests.support.jobs import server_database

pytestmark = pytest.mark.api

FINAL = {"Success", "Error", "Stopped"}


def _project_id(client, name: str) -> int:
    r = client.get(f"/projects/{name}", headers={"X-Is-Resource-Name": "true"})
    assert r.status_code == 200, r.text
    return r.json()["project_id"]


def _rule(template: str, param: int | None = None, repo: str = "**", tags: str = "**", **kw):
    return {
        "disabled": False,
        "action": "retain",
        "template": template,
        "params": {template: param} if param is not None else {},
        "tag_selectors": [
            {
                "kind": "doublestar",
                "decoration": kw.get("tag_decoration", "matches"),
                "pattern": tags,
                "extras": '{"untagged": %s}' % ("true" if kw.get("untagged") else "false"),
            }
        ],
        "scope_selectors": {
            "repository": [
                {
                    "kind": "doublestar",
                    "decoration": kw.get("repo_decoration", "repoMatches"),
                    "pattern": repo,
                }
            ]
        },
    }


def _policy(project_id: int, rules: list, cron: str = "") -> dict:
    return {
        "algorithm": "or",
        "rules": rules,
        "trigger": {"kind": "Schedule", "settings": {"cron": cron}, "references": {}},
        "scope": {"level": "project", "ref": project_id},
    }


def _create(client, body: dict) -> int:
    r = client.post("/retentions", json=body)
    assert r.status_code == 201, r.text
    assert r.headers["Location"].startswith("/api/v2.0/retentions/")
    return int(r.headers["Location"].rsplit("/", 1)[1])


def _run(client, policy_id: int, dry_run: bool) -> int:
    r = client.post(f"/retentions/{policy_id}/executions", json={"dry_run": dry_run})
    assert r.status_code == 201, r.text
    execution_id = int(r.headers["Location"].rsplit("/", 1)[1])
    assert r.headers["Location"] == f"/api/v2.0/retentions/{policy_id}/executions/{execution_id}"
    _wait(client, policy_id, execution_id)
    return execution_id


def _wait(client, policy_id: int, execution_id: int) -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = [
            e
            for e in client.get(
                f"/retentions/{policy_id}/executions", params={"page_size": 100}
            ).json()
            if e["id"] == execution_id
        ]
        if found and found[0]["status"] in FINAL:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"retention execution {execution_id} did not finish: {found}")


def _verdicts(client, policy_id: int, execution_id: int) -> dict[str, dict[str, str]]:
    """repository → {digest: RETAIN|DEL|IMMUTABLE}, from the tasks' logs."""
    out: dict[str, dict[str, str]] = {}
    tasks = client.get(f"/retentions/{policy_id}/executions/{execution_id}/tasks").json()
    for task in tasks:
        assert task["status"] == "Success", task
        r = client.get(f"/retentions/{policy_id}/executions/{execution_id}/tasks/{task['id']}")
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
        alias = client.get(
            f"/retentions/{policy_id}/executions/{execution_id}/tasks/{task['id']}/log"
        )
        assert alias.status_code == 200 and alias.text == r.text
        rows = {}
        for line in r.text.splitlines():
            parts = [p.strip() for p in line.split(" ", 1)[-1].split("|")]
            if len(parts) == 5 and parts[0].startswith("sha256:"):
                rows[parts[0]] = parts[4]
        out[task["repository"]] = rows
    return out


def _exists(pusher, repo: str, digest: str) -> bool:
    r = pusher.http.head(f"{pusher.base}/v2/{repo}/manifests/{digest}", timeout=30)
    return r.status_code == 200


def test_metadata_lists_harbors_templates_and_selectors(anon_client):
    r = anon_client.get("/retentions/metadatas")
    assert r.status_code == 200, r.text
    meta = r.json()
    templates = {t["rule_template"]: t for t in meta["templates"]}
    assert set(templates) == {
        "latestPushedK",
        "latestPulledN",
        "nDaysSinceLastPush",
        "nDaysSinceLastPull",
        "always",
    }
    assert templates["latestPushedK"]["params"] == [
        {"type": "int", "unit": "count", "required": True}
    ]
    assert templates["always"]["params"] == [] and templates["always"]["action"] == "retain"
    assert meta["tag_selectors"][0]["decorations"] == ["matches", "excludes"]
    assert meta["scope_selectors"][0]["decorations"] == ["repoMatches", "repoExcludes"]


def test_policy_lifecycle_and_project_metadata(admin_client, project):
    project_id = _project_id(admin_client, project)
    body = _policy(project_id, [_rule("latestPushedK", 3, repo="app/**", tags="v*", untagged=True)])
    policy_id = _create(admin_client, body)
    meta = admin_client.get(
        f"/projects/{project}/metadatas/retention_id", headers={"X-Is-Resource-Name": "true"}
    )
    assert meta.status_code == 200 and meta.json() == {"retention_id": str(policy_id)}
    got = admin_client.get(f"/retentions/{policy_id}").json()
    assert got["id"] == policy_id and got["algorithm"] == "or"
    assert got["scope"] == {"level": "project", "ref": project_id}
    assert got["trigger"] == {"kind": "Schedule", "settings": {"cron": ""}, "references": {}}
    rule = got["rules"][0]
    assert rule["template"] == "latestPushedK" and rule["params"] == {"latestPushedK": 3}
    assert rule["tag_selectors"][0]["pattern"] == "v*"
    assert rule["tag_selectors"][0]["extras"] == '{"untagged": true}'
    assert rule["scope_selectors"]["repository"][0]["decoration"] == "repoMatches"
    # one policy per project (Harbor: 400)
    assert admin_client.post("/retentions", json=body).status_code == 400
    # PUT replaces rules and trigger; a cron schedules it
    body["rules"] = [_rule("nDaysSinceLastPull", 7), _rule("always", repo="keep")]
    body["trigger"]["settings"]["cron"] = "0  0 0 * * *"
    r = admin_client.put(f"/retentions/{policy_id}", json=body)
    assert r.status_code == 200, r.text
    got = admin_client.get(f"/retentions/{policy_id}").json()
    assert [x["template"] for x in got["rules"]] == ["nDaysSinceLastPull", "always"]
    assert got["trigger"]["settings"]["cron"] == "0 0 0 * * *"
    schedules = admin_client.get("/schedules", params={"page_size": 100}).json()
    assert any(
        s["vendor_type"] == "RETENTION_SCHEDULE" and s["vendor_id"] == policy_id for s in schedules
    )
    # the policy stays with its project
    other = dict(body, scope={"level": "project", "ref": project_id + 100000})
    assert admin_client.put(f"/retentions/{policy_id}", json=other).status_code == 400
    assert admin_client.delete(f"/retentions/{policy_id}").status_code == 200
    assert admin_client.get(f"/retentions/{policy_id}").status_code == 404
    assert admin_client.delete(f"/retentions/{policy_id}").status_code == 404
    meta = admin_client.get(
        f"/projects/{project}/metadatas/", headers={"X-Is-Resource-Name": "true"}
    )
    assert "retention_id" not in meta.json()
    schedules = admin_client.get("/schedules", params={"page_size": 100}).json()
    assert not any(
        s["vendor_type"] == "RETENTION_SCHEDULE" and s["vendor_id"] == policy_id for s in schedules
    )
    # and a new one can be made at once
    admin_client.delete(f"/retentions/{_create(admin_client, _policy(project_id, []))}")


@pytest.mark.parametrize(
    "change",
    [
        {"algorithm": "and"},
        {"rules": [_rule("latestK", 1)]},
        {"rules": [_rule("latestPushedK")]},
        {"rules": [_rule("latestPushedK", -1)]},
        {"rules": [_rule("always", tags="[a")]},
        {"rules": [_rule("always", tag_decoration="repoMatches")]},
        {"rules": [_rule("always", repo_decoration="matches")]},
        {"rules": [dict(_rule("always"), tag_selectors=[])]},
        {"rules": [dict(_rule("always"), scope_selectors={})]},
        {"rules": [dict(_rule("always"), action="delete")]},
        {"rules": [_rule("always")] * 16},
        {"trigger": {"kind": "Schedule", "settings": {"cron": "0 0 * * *"}}},
        {"trigger": {"kind": "Event"}},
        {"scope": {"level": "system", "ref": 0}},
    ],
)
def test_invalid_policies_are_400(admin_client, project, change):
    body = dict(_policy(_project_id(admin_client, project), [_rule("always")]), **change)
    r = admin_client.post("/retentions", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["code"] == "BAD_REQUEST"


def test_who_may_manage_retention(admin_client, project, new_user):
    project_id = _project_id(admin_client, project)
    policy_id = _create(admin_client, _policy(project_id, [_rule("always")]))
    _, outsider_name, _, outsider = new_user()
    _, guest_name, _, guest = new_user()
    _, dev_name, _, developer = new_user()
    for name, role in ((guest_name, 3), (dev_name, 2)):
        r = admin_client.post(
            f"/projects/{project}/members",
            json={"role_id": role, "member_user": {"username": name}},
        )
        assert r.status_code == 201, r.text
    # outside a private project: the same 404 as a policy that does not exist
    seen = outsider.get(f"/retentions/{policy_id}")
    missing = outsider.get("/retentions/2147483000")
    assert seen.status_code == missing.status_code == 404
    assert seen.json()["errors"][0]["message"] == f"retention policy {policy_id} not found"
    assert outsider.post("/retentions", json=_policy(project_id, [])).status_code == 404
    # a guest sees the project, not the policy
    assert guest.get(f"/retentions/{policy_id}").status_code == 403
    assert (
        guest.post(f"/retentions/{policy_id}/executions", json={"dry_run": True}).status_code == 403
    )
    # developers hold tag-retention in Harbor's RBAC
    assert developer.get(f"/retentions/{policy_id}").status_code == 200
    assert (
        developer.put(
            f"/retentions/{policy_id}", json=_policy(project_id, [_rule("nothing")])
        ).status_code
        == 200
    )
    assert developer.get(f"/retentions/{policy_id}/executions").status_code == 200
    with ApiClient(admin_client.base_url) as anonymous:  # a private project: as if missing
        assert anonymous.get(f"/retentions/{policy_id}").status_code == 404
        assert anonymous.post("/retentions", json=_policy(project_id, [])).status_code == 404
    admin_client.delete(f"/retentions/{policy_id}")


def test_dry_run_then_real_run_delete_the_same_artifacts(admin_client, project, pusher):
    project_id = _project_id(admin_client, project)
    app, kept_repo, other = f"{project}/app", f"{project}/keep/db", f"{project}/other"
    versions = {tag: pusher.image(app, tag).digest for tag in ("v1", "v2", "v3", "v4")}
    dev = pusher.image(app, "dev").digest
    untagged = pusher.image(app, None).digest
    kept = [pusher.image(kept_repo, "x").digest, pusher.image(kept_repo, None).digest]
    pusher.image(other, "latest")  # no rule applies to it: no task, untouched
    rules = [
        _rule("latestPushedK", 2, repo="app", tags="v*"),
        _rule("always", repo="keep/**", untagged=True),
    ]
    policy_id = _create(admin_client, _policy(project_id, rules))
    expected_deleted = {versions["v1"], versions["v2"], dev, untagged}

    dry = _run(admin_client, policy_id, dry_run=True)
    dry_verdicts = _verdicts(admin_client, policy_id, dry)
    assert set(dry_verdicts) == {app, kept_repo}
    assert {d for d, v in dry_verdicts[app].items() if v == "DEL"} == expected_deleted
    assert {d for d, v in dry_verdicts[app].items() if v == "RETAIN"} == {
        versions["v3"],
        versions["v4"],
    }
    assert set(dry_verdicts[kept_repo].values()) == {"RETAIN"} and len(dry_verdicts[kept_repo]) == 2
    assert all(_exists(pusher, app, d) for d in [*versions.values(), dev, untagged])
    tasks = {
        t["repository"]: t
        for t in admin_client.get(f"/retentions/{policy_id}/executions/{dry}/tasks").json()
    }
    assert (tasks[app]["total"], tasks[app]["retained"]) == (6, 2)
    assert (tasks[kept_repo]["total"], tasks[kept_repo]["retained"]) == (2, 2)
    assert tasks[app]["status_code"] == 3 and tasks[app]["job_id"] == str(tasks[app]["id"])

    real = _run(admin_client, policy_id, dry_run=False)
    real_verdicts = _verdicts(admin_client, policy_id, real)
    assert real_verdicts == dry_verdicts  # the same selection
    for digest in expected_deleted:
        assert not _exists(pusher, app, digest)
    for digest in (versions["v3"], versions["v4"]):
        assert _exists(pusher, app, digest)
    assert all(_exists(pusher, kept_repo, d) for d in kept)
    tags = admin_client.get(
        f"/projects/{project}/repositories/app/artifacts", params={"with_tag": "true"}
    ).json()
    assert sorted(t["name"] for a in tags for t in a.get("tags") or []) == ["v3", "v4"]

    history = admin_client.get(f"/retentions/{policy_id}/executions").json()
    assert [(e["id"], e["dry_run"], e["trigger"]) for e in history[:2]] == [
        (real, False, "MANUAL"),
        (dry, True, "MANUAL"),
    ]
    assert history[0]["status"] == "Success" and history[0]["end_time"]
    assert (
        int(admin_client.get(f"/retentions/{policy_id}/executions").headers["X-Total-Count"]) == 2
    )
    # a second real run finds nothing more to delete
    again = _run(admin_client, policy_id, dry_run=False)
    assert set(_verdicts(admin_client, policy_id, again)[app].values()) == {"RETAIN"}
    # stopping a finished execution changes nothing; unknown ones are 404
    assert (
        admin_client.patch(
            f"/retentions/{policy_id}/executions/{again}", json={"action": "stop"}
        ).status_code
        == 200
    )
    assert (
        admin_client.patch(
            f"/retentions/{policy_id}/executions/2147483000", json={"action": "stop"}
        ).status_code
        == 404
    )
    assert (
        admin_client.get(f"/retentions/{policy_id}/executions/2147483000/tasks").status_code == 404
    )
    admin_client.delete(f"/retentions/{policy_id}")


def test_a_scheduled_run_fires(server, admin_client, project, pusher):
    project_id = _project_id(admin_client, project)
    repo = f"{project}/sched"
    old, new = pusher.image(repo, "old").digest, pusher.image(repo, "new").digest
    policy_id = _create(
        admin_client, _policy(project_id, [_rule("latestPushedK", 1)], cron="0 0 0 1 1 *")
    )
    with server_database(server) as db, db.transaction() as s:  # due now
        s.execute(
            update(Schedule)
            .where(Schedule.vendor_type == "RETENTION_SCHEDULE", Schedule.vendor_id == policy_id)
            .values(next_fire_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    deadline = time.monotonic() + 30
    runs: list = []
    while time.monotonic() < deadline:
        runs = [
            e
            for e in admin_client.get(f"/retentions/{policy_id}/executions").json()
            if e["trigger"] == "SCHEDULE" and e["status"] in FINAL
        ]
        if runs:
            break
        time.sleep(0.2)
    assert runs and runs[0]["status"] == "Success" and runs[0]["dry_run"] is False, runs
    assert not _exists(pusher, repo, old) and _exists(pusher, repo, new)
    admin_client.delete(f"/retentions/{policy_id}")


def test_unknown_names_are_404(admin_client):
    assert admin_client.get("/retentions/2147483000").status_code == 404
    assert admin_client.post("/retentions/2147483000/executions", json={}).status_code == 404
    assert admin_client.get("/retentions/2147483000/executions/1/tasks/1").status_code == 404


def test_a_deleted_project_takes_its_policy_and_schedule_along(server, admin_client):
    name = f"ret-gone-{time.monotonic_ns()}"
    r = admin_client.post("/projects", json={"project_name": name, "metadata": {"public": "false"}})
    assert r.status_code == 201, r.text
    policy_id = _create(
        admin_client,
        _policy(_project_id(admin_client, name), [_rule("always")], cron="0 0 0 1 1 *"),
    )
    r = admin_client.delete(f"/projects/{name}", headers={"X-Is-Resource-Name": "true"})
    assert r.status_code == 200, r.text
    assert admin_client.get(f"/retentions/{policy_id}").status_code == 404
    with server_database(server) as db, db.transaction() as s:  # the orphan schedule fires
        s.execute(
            update(Schedule)
            .where(Schedule.vendor_type == "RETENTION_SCHEDULE", Schedule.vendor_id == policy_id)
            .values(next_fire_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        schedules = admin_client.get("/schedules", params={"page_size": 100}).json()
        if not any(
            s["vendor_type"] == "RETENTION_SCHEDULE" and s["vendor_id"] == policy_id
            for s in schedules
        ):
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the orphan retention schedule was not removed")


def test_an_index_is_one_candidate_and_goes_with_its_children(admin_client, project, pusher):
    project_id = _project_id(admin_client, project)
    repo = f"{project}/multi"
    old = pusher.index(repo, "old")
    new = pusher.image(repo, "new").digest
    policy_id = _create(admin_client, _policy(project_id, [_rule("latestPushedK", 1)]))
    real = _run(admin_client, policy_id, dry_run=False)
    verdicts = _verdicts(admin_client, policy_id, real)[repo]
    assert verdicts == {old.digest: "DEL", new: "RETAIN"}  # the children are not candidates
    assert not _exists(pusher, repo, old.digest)
    assert not any(_exists(pusher, repo, child.digest) for child in old.children)
    assert _exists(pusher, repo, new)
    admin_client.delete(f"/retentions/{policy_id}")


def test_immutable_tags_are_kept_and_logged_immutable(admin_client, project, pusher):
    """A retention rule that would delete a tag an immutable tag rule protects: the
    artifact stays, logged ``IMMUTABLE``, in the dry run and the real run alike."""
    project_id = _project_id(admin_client, project)
    app = f"{project}/app"
    frozen = pusher.image(app, "release-1").digest
    doomed = pusher.image(app, "dev").digest
    kept = pusher.image(app, "v1").digest
    r = admin_client.post(
        f"/projects/{project}/immutabletagrules",
        json={
            "action": "immutable",
            "template": "immutable_template",
            "disabled": False,
            "tag_selectors": [
                {"kind": "doublestar", "decoration": "matches", "pattern": "release-*"}
            ],
            "scope_selectors": {
                "repository": [{"kind": "doublestar", "decoration": "repoMatches", "pattern": "**"}]
            },
        },
    )
    assert r.status_code == 201, r.text
    policy_id = _create(admin_client, _policy(project_id, [_rule("always", repo="app", tags="v*")]))
    expected = {frozen: "IMMUTABLE", doomed: "DEL", kept: "RETAIN"}
    dry = _run(admin_client, policy_id, dry_run=True)
    assert _verdicts(admin_client, policy_id, dry)[app] == expected
    real = _run(admin_client, policy_id, dry_run=False)
    assert _verdicts(admin_client, policy_id, real)[app] == expected
    (task,) = admin_client.get(f"/retentions/{policy_id}/executions/{real}/tasks").json()
    assert (task["total"], task["retained"]) == (3, 2)
    log = admin_client.get(f"/retentions/{policy_id}/executions/{real}/tasks/{task['id']}/log").text
    assert f"{frozen}: " not in log  # never tried: no deletion, no refusal
    assert _exists(pusher, app, frozen) and _exists(pusher, app, kept)
    assert not _exists(pusher, app, doomed)
    admin_client.delete(f"/retentions/{policy_id}")


def test_ids_of_deleted_executions_and_tasks_are_never_reused(
    server, admin_client, project, pusher
):
    """The newest execution and task deleted (directly, as a purge would): the next run
    gets new ids, its task log starts empty, and the old execution stays 404 (SQLite
    without AUTOINCREMENT handed the deleted ids out again, and the new task appended to
    the old task's stored log)."""
    project_id = _project_id(admin_client, project)
    pusher.image(f"{project}/ids", "v1")
    policy_id = _create(admin_client, _policy(project_id, [_rule("always", repo="ids")]))
    first = _run(admin_client, policy_id, dry_run=True)
    (old_task,) = admin_client.get(f"/retentions/{policy_id}/executions/{first}/tasks").json()
    with server_database(server) as db, db.transaction() as s:
        s.execute(delete(Execution).where(Execution.id == first))  # its task goes with it
    second = _run(admin_client, policy_id, dry_run=True)
    (new_task,) = admin_client.get(f"/retentions/{policy_id}/executions/{second}/tasks").json()
    assert second > first and new_task["id"] > old_task["id"]
    log = admin_client.get(
        f"/retentions/{policy_id}/executions/{second}/tasks/{new_task['id']}/log"
    ).text
    assert log.count(" started") == 1 and log.split("\n", 1)[0].endswith(" started"), log
    assert admin_client.get(f"/retentions/{policy_id}/executions/{first}/tasks").status_code == 404
    admin_client.delete(f"/retentions/{policy_id}")
