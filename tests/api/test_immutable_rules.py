"""Immutable tag rules: Harbor's four operations on both backends, and what an enabled rule
refuses through /v2 (manifest put moving a tag, tag and digest delete) and through the API
(artifact, tag and repository delete), with Harbor's 412 ``PRECONDITION``."""

import uuid

import pytest

pytestmark = pytest.mark.api

RULE_FIELDS = {
    "id",
    "priority",
    "disabled",
    "action",
    "template",
    "params",
    "tag_selectors",
    "scope_selectors",
}


def rule_body(tags="**", repos="**", tag_decoration="matches", repo_decoration="repoMatches"):
    return {
        "action": "immutable",
        "template": "immutable_template",
        "disabled": False,
        "tag_selectors": [{"kind": "doublestar", "decoration": tag_decoration, "pattern": tags}],
        "scope_selectors": {
            "repository": [{"kind": "doublestar", "decoration": repo_decoration, "pattern": repos}]
        },
    }


def _rules(project):
    return f"/projects/{project}/immutabletagrules"


def _create(client, project, **kw):
    r = client.post(_rules(project), json=rule_body(**kw))
    assert r.status_code == 201, r.text
    return int(r.headers["Location"].rsplit("/", 1)[1])


def _error(response, status, code="PRECONDITION"):
    assert response.status_code == status, response.text
    assert response.json()["errors"][0]["code"] == code
    return response.json()["errors"][0]["message"]


def test_create_list_update_delete(admin_client, project):
    r = admin_client.post(_rules(project), json=rule_body(tags="v*", repos="app/**"))
    assert r.status_code == 201, r.text
    assert r.headers["Location"].startswith(f"/api/v2.0/projects/{project}/immutabletagrules/")
    rule_id = int(r.headers["Location"].rsplit("/", 1)[1])
    r = admin_client.get(_rules(project))
    assert r.status_code == 200 and r.headers["X-Total-Count"] == "1"
    (rule,) = r.json()
    assert set(rule) == RULE_FIELDS
    assert rule["id"] == rule_id and rule["disabled"] is False
    assert rule["action"] == "immutable" and rule["template"] == "immutable_template"
    assert rule["tag_selectors"] == [
        {"kind": "doublestar", "decoration": "matches", "pattern": "v*"}
    ]
    assert rule["scope_selectors"] == {
        "repository": [{"kind": "doublestar", "decoration": "repoMatches", "pattern": "app/**"}]
    }
    # the same selectors twice: 409
    _error(
        admin_client.post(_rules(project), json=rule_body(tags="v*", repos="app/**")),
        409,
        "CONFLICT",
    )
    # disable only (Harbor: a changed `disabled` changes nothing else)
    body = {
        **rule,
        "disabled": True,
        "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "x"}],
    }
    assert admin_client.put(f"{_rules(project)}/{rule_id}", json=body).status_code == 200
    (rule,) = admin_client.get(_rules(project)).json()
    assert rule["disabled"] is True and rule["tag_selectors"][0]["pattern"] == "v*"
    # replace the selectors
    body = {
        **rule_body(tags="release-*", tag_decoration="excludes"),
        "disabled": True,
        "priority": 3,
    }
    assert admin_client.put(f"{_rules(project)}/{rule_id}", json=body).status_code == 200
    (rule,) = admin_client.get(_rules(project)).json()
    assert rule["tag_selectors"][0] == {
        "kind": "doublestar",
        "decoration": "excludes",
        "pattern": "release-*",
    }
    assert rule["priority"] == 3
    # a body id other than the path's
    _error(
        admin_client.put(f"{_rules(project)}/{rule_id}", json={"id": rule_id + 1}),
        400,
        "BAD_REQUEST",
    )
    assert admin_client.delete(f"{_rules(project)}/{rule_id}").status_code == 200
    assert admin_client.get(_rules(project)).json() == []
    _error(admin_client.delete(f"{_rules(project)}/{rule_id}"), 404, "NOT_FOUND")
    _error(admin_client.put(f"{_rules(project)}/{rule_id}", json=rule_body()), 404, "NOT_FOUND")


def test_project_by_id_and_by_name_header(admin_client, project):
    project_id = admin_client.get(f"/projects/{project}").json()["project_id"]
    rule_id = _create(admin_client, str(project_id))
    listed = admin_client.get(_rules(project), headers={"X-Is-Resource-Name": "true"}).json()
    assert [r["id"] for r in listed] == [rule_id]
    assert admin_client.get(_rules(str(project_id))).json() == listed


def test_paging_and_sort(admin_client, project):
    ids = [_create(admin_client, project, tags=f"t{i}") for i in range(3)]
    r = admin_client.get(_rules(project), params={"page": 1, "page_size": 2, "sort": "-id"})
    assert [x["id"] for x in r.json()] == ids[::-1][:2]
    assert r.headers["X-Total-Count"] == "3" and 'rel="next"' in r.headers["Link"]
    _error(admin_client.get(_rules(project), params={"q": "nope=1"}), 400, "BAD_REQUEST")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {**rule_body(), "tag_selectors": []},
        {**rule_body(), "scope_selectors": {}},
        {**rule_body(), "scope_selectors": {"repository": []}},
        rule_body(tag_decoration="repoMatches"),
        rule_body(repo_decoration="matches"),
        rule_body(tags=" "),
        rule_body(repos="[z-a]"),
        rule_body(tags="{a,b"),
        {
            **rule_body(),
            "tag_selectors": [{"kind": "regex", "decoration": "matches", "pattern": "x"}],
        },
    ],
)
def test_invalid_rules_are_400(admin_client, project, body):
    _error(admin_client.post(_rules(project), json=body), 400, "BAD_REQUEST")


def test_permissions(admin_client, anon_client, project, new_user):
    rule_id = _create(admin_client, project)
    project_id = admin_client.get(f"/projects/{project}").json()["project_id"]
    clients = {}
    for role in (1, 4, 2, 3):
        user_id, _, _, client = new_user()
        r = admin_client.post(
            f"/projects/{project}/members",
            json={"role_id": role, "member_user": {"user_id": user_id}},
        )
        assert r.status_code == 201
        clients[role] = client
    _, _, _, outsider = new_user()
    for role in (1, 4):  # project admin, maintainer: everything
        assert clients[role].get(_rules(project)).status_code == 200
        new_id = _create(clients[role], project, tags=f"r{role}")
        assert (
            clients[role].put(f"{_rules(project)}/{new_id}", json={"disabled": True}).status_code
            == 200
        )
        assert clients[role].delete(f"{_rules(project)}/{new_id}").status_code == 200
    for role in (2, 3):  # developer, guest: Harbor's RBAC grants them nothing here
        _error(clients[role].get(_rules(project)), 403, "FORBIDDEN")
        _error(clients[role].post(_rules(project), json=rule_body(tags="dev")), 403, "FORBIDDEN")
        _error(clients[role].delete(f"{_rules(project)}/{rule_id}"), 403, "FORBIDDEN")
    # a private project is the same as a missing one, to an outsider and to anonymous
    _error(outsider.get(_rules(project)), 404, "NOT_FOUND")
    _error(outsider.get(_rules("no-such-project-x")), 404, "NOT_FOUND")
    _error(anon_client.get(_rules(str(project_id))), 404, "NOT_FOUND")
    # a rule of another project is not found through this one
    other = admin_client.post("/projects", json={"project_name": f"{project}-o"})
    assert other.status_code == 201
    try:
        _error(admin_client.delete(f"{_rules(project + '-o')}/{rule_id}"), 404, "NOT_FOUND")
    finally:
        admin_client.delete(f"/projects/{project}-o")


# --- enforcement ------------------------------------------------------------------------


def _v2(pusher, path):
    return f"{pusher.base}/v2/{path}"


def _manifest_bytes(pusher, repo, digest):
    r = pusher.http.get(
        _v2(pusher, f"{repo}/manifests/{digest}"),
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
    )
    assert r.status_code == 200
    return r.content, r.headers["Content-Type"]


def _put(pusher, repo, reference, body, media_type):
    return pusher.http.put(
        _v2(pusher, f"{repo}/manifests/{reference}"),
        data=body,
        headers={"Content-Type": media_type},
    )


def _api_repo(project, repo):
    return f"/projects/{project}/repositories/{repo.split('/', 1)[1].replace('/', '%252F')}"


def test_a_matching_tag_cannot_move_but_the_same_digest_pushes_again(admin_client, pusher, project):
    repo = f"{project}/app/web"
    _create(admin_client, project, tags="v*", repos="app/**")
    first = pusher.image(repo, "v1")
    other = pusher.image(repo, None)  # by digest: no tag
    body, media_type = _manifest_bytes(pusher, repo, other.digest)
    r = _put(pusher, repo, "v1", body, media_type)
    assert r.status_code == 412, r.text
    assert r.json()["errors"][0] == {
        "code": "PRECONDITION",
        "message": "Failed to process request due to 'app/web:v1' configured as immutable.",
    }
    # the tag still names the first digest
    head = pusher.http.head(_v2(pusher, f"{repo}/manifests/v1"), headers={"Accept": media_type})
    assert head.headers["Docker-Content-Digest"] == first.digest
    # the same digest again: allowed (idempotent)
    body1, _ = _manifest_bytes(pusher, repo, first.digest)
    assert _put(pusher, repo, "v1", body1, media_type).status_code == 201
    # tags the rule does not match move freely; a new matching tag is created freely
    assert _put(pusher, repo, "latest", body1, media_type).status_code == 201
    assert _put(pusher, repo, "latest", body, media_type).status_code == 201
    assert _put(pusher, repo, "v2", body, media_type).status_code == 201
    # another repository (the rule's repoMatches does not match it)
    elsewhere = f"{project}/lib"
    e1 = pusher.image(elsewhere, "v1")
    e2 = pusher.image(elsewhere, None)
    eb, _ = _manifest_bytes(pusher, elsewhere, e2.digest)
    assert _put(pusher, elsewhere, "v1", eb, media_type).status_code == 201
    assert e1.digest != e2.digest


def test_deletes_of_an_immutable_tag_are_refused_on_both_edges(admin_client, pusher, project):
    repo = f"{project}/svc"
    pushed = pusher.image(repo, "1.0")
    pusher.image(repo, "dev")
    rule_id = _create(admin_client, project, tags="1.*")
    # /v2 by tag and by digest
    r = pusher.http.delete(_v2(pusher, f"{repo}/manifests/1.0"))
    assert r.status_code == 412 and r.json()["errors"][0]["code"] == "PRECONDITION", r.text
    r = pusher.http.delete(_v2(pusher, f"{repo}/manifests/{pushed.digest}"))
    assert r.status_code == 412, r.text
    assert (
        r.json()["errors"][0]["message"] == "the tag 1.0 configured as immutable, cannot be deleted"
    )
    # the API: tag, artifact, repository
    base = _api_repo(project, repo)
    message = _error(admin_client.delete(f"{base}/artifacts/{pushed.digest}/tags/1.0"), 412)
    assert message == "the tag 1.0 configured as immutable, cannot be deleted"
    _error(admin_client.delete(f"{base}/artifacts/{pushed.digest}"), 412)
    _error(admin_client.delete(base), 412)
    # the tag and artifact are still there; the tag is shown as immutable
    tags = admin_client.get(
        f"{base}/artifacts/{pushed.digest}", params={"with_immutable_status": "true"}
    ).json()["tags"]
    assert [(t["name"], t["immutable"]) for t in tags] == [("1.0", True)]
    listed = admin_client.get(
        f"{base}/artifacts/{pushed.digest}/tags", params={"with_immutable_status": "true"}
    ).json()
    assert [(t["name"], t["immutable"]) for t in listed] == [("1.0", True)]
    # tags no rule matches are deleted as before
    assert pusher.http.delete(_v2(pusher, f"{repo}/manifests/dev")).status_code == 202
    # a disabled rule protects nothing
    assert (
        admin_client.put(f"{_rules(project)}/{rule_id}", json={"disabled": True}).status_code == 200
    )
    assert admin_client.delete(f"{base}/artifacts/{pushed.digest}/tags/1.0").status_code == 200
    assert admin_client.delete(f"{base}/artifacts/{pushed.digest}").status_code == 200


def test_excludes_decorations(admin_client, pusher, project):
    repo = f"{project}/tools"
    pushed = pusher.image(repo, "keep")
    pusher.image(repo, "scratch-1")
    _create(
        admin_client,
        project,
        tags="scratch-*",
        tag_decoration="excludes",
        repos="tmp/**",
        repo_decoration="repoExcludes",
    )
    r = pusher.http.delete(_v2(pusher, f"{repo}/manifests/keep"))
    assert r.status_code == 412, r.text
    assert pusher.http.delete(_v2(pusher, f"{repo}/manifests/scratch-1")).status_code == 202
    tmp = f"{project}/tmp/x"
    pusher.image(tmp, "keep")
    assert pusher.http.delete(_v2(pusher, f"{tmp}/manifests/keep")).status_code == 202
    assert pushed.digest


def test_a_copy_cannot_move_an_immutable_tag_and_project_delete_takes_the_rules(
    admin_client, pusher
):
    project = f"immu-copy-{uuid.uuid4().hex[:8]}"
    assert admin_client.post("/projects", json={"project_name": project}).status_code == 201
    pusher.image(f"{project}/src", "v1")
    kept = pusher.image(f"{project}/dst", "v1")
    _create(admin_client, project, tags="v1", repos="dst")
    r = admin_client.post(
        f"{_api_repo(project, project + '/dst')}/artifacts", params={"from": f"{project}/src:v1"}
    )
    assert _error(r, 412) == "Failed to process request due to 'dst:v1' configured as immutable."
    head = pusher.http.head(
        _v2(pusher, f"{project}/dst/manifests/v1"),
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
    )
    assert head.headers["Docker-Content-Digest"] == kept.digest
    # copying into a repository the rule does not cover works
    r = admin_client.post(
        f"{_api_repo(project, project + '/other')}/artifacts", params={"from": f"{project}/src:v1"}
    )
    assert r.status_code == 201, r.text
    # an emptied project goes with its rules
    for repo in ("src", "other"):
        assert admin_client.delete(_api_repo(project, f"{project}/{repo}")).status_code == 200
    admin_client.put(
        f"{_rules(project)}/{admin_client.get(_rules(project)).json()[0]['id']}",
        json={"disabled": True},
    )
    assert admin_client.delete(_api_repo(project, f"{project}/dst")).status_code == 200
    assert admin_client.delete(f"/projects/{project}").status_code == 200
    _error(admin_client.get(_rules(project)), 404, "NOT_FOUND")
