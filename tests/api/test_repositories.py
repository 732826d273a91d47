"""Repositories: list (all / per project) with q, sort and paging; get, update, delete."""

import pytest

from tests.conftest import unique

pytestmark = pytest.mark.api


def test_list_get_update_delete(admin_client, project, pusher):
    for name in ("alpha", "beta", "team/gamma"):
        pusher.image(f"{project}/{name}", "v1")
    pusher.image(f"{project}/alpha", "v2")
    r = admin_client.get(f"/projects/{project}/repositories", params={"sort": "name"})
    assert r.status_code == 200 and r.headers["X-Total-Count"] == "3"
    body = r.json()
    assert [x["name"] for x in body] == [
        f"{project}/alpha",
        f"{project}/beta",
        f"{project}/team/gamma",
    ]
    assert body[0]["artifact_count"] == 2 and body[0]["pull_count"] == 0
    assert body[0]["creation_time"].endswith("Z") and body[0]["update_time"]
    paged = admin_client.get(
        f"/projects/{project}/repositories", params={"sort": "-name", "page": 2, "page_size": 2}
    )
    assert [x["name"] for x in paged.json()] == [f"{project}/alpha"]
    assert 'rel="prev"' in paged.headers["Link"]
    fuzzy = admin_client.get(f"/projects/{project}/repositories", params={"q": "name=~gam"})
    assert [x["name"] for x in fuzzy.json()] == [f"{project}/team/gamma"]
    # nested names are URL-encoded twice, as Harbor does
    nested = admin_client.get(f"/projects/{project}/repositories/team%252Fgamma")
    assert nested.status_code == 200 and nested.json()["name"] == f"{project}/team/gamma"
    r = admin_client.put(
        f"/projects/{project}/repositories/beta", json={"description": "the beta repo"}
    )
    assert r.status_code == 200
    assert (
        admin_client.get(f"/projects/{project}/repositories/beta").json()["description"]
        == "the beta repo"
    )
    assert (
        admin_client.delete(f"/projects/{project}/repositories/team%252Fgamma").status_code == 200
    )
    assert admin_client.get(f"/projects/{project}/repositories/team%252Fgamma").status_code == 404
    r = pusher.http.get(f"{pusher.base}/v2/{project}/team/gamma/manifests/v1")
    assert r.status_code == 404
    logs = admin_client.get(
        f"/projects/{project}/logs", params={"q": f"resource_type=repository,resource=~{project}/"}
    ).json()
    assert {(e["operation"], e["resource"]) for e in logs} == {
        ("update", f"{project}/beta"),
        ("delete", f"{project}/team/gamma"),
    }


def test_list_all_repositories(admin_client, project, pusher, new_user):
    repo = unique("all")
    pusher.image(f"{project}/{repo}", "v1")
    r = admin_client.get("/repositories", params={"q": f"name=~{repo}"})
    assert [x["name"] for x in r.json()] == [f"{project}/{repo}"]
    _, _, _, client = new_user()
    assert client.get("/repositories", params={"q": f"name=~{repo}"}).json() == []


def test_permissions_and_errors(admin_client, project, pusher, new_user, anon_client):
    pusher.image(f"{project}/private", "v1")
    user_id, username, _, client = new_user()
    assert client.get(f"/projects/{project}/repositories").status_code == 404
    assert anon_client.get(f"/projects/{project}/repositories").status_code == 404
    admin_client.post(
        f"/projects/{project}/members", json={"role_id": 3, "member_user": {"username": username}}
    )  # guest
    assert client.get(f"/projects/{project}/repositories").status_code == 200
    assert client.delete(f"/projects/{project}/repositories/private").status_code == 403
    assert (
        client.put(
            f"/projects/{project}/repositories/private", json={"description": "x"}
        ).status_code
        == 403
    )
    assert admin_client.get(f"/projects/{project}/repositories/nope").status_code == 404
    assert (
        admin_client.get(f"/projects/{project}/repositories", params={"sort": "bogus"}).status_code
        == 400
    )
    assert (
        admin_client.get(f"/projects/{project}/repositories", params={"page_size": 0}).status_code
        == 400
    )


def test_pulls_are_counted(admin_client, project, pusher):
    """Manifest GETs through /v2 raise pull_count and set pull_time (batched, ~1 s)."""
    import time

    img = pusher.image(f"{project}/pulled", "v1")
    for ref in ("v1", "v1", img.digest):
        r = pusher.http.get(
            f"{pusher.base}/v2/{project}/pulled/manifests/{ref}",
            headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
        )
        assert r.status_code == 200
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        repo = admin_client.get(f"/projects/{project}/repositories/pulled").json()
        if repo["pull_count"] == 3:
            break
        time.sleep(0.2)
    assert repo["pull_count"] == 3
    artifact = admin_client.get(f"/projects/{project}/repositories/pulled/artifacts/v1").json()
    assert artifact["pull_time"] and artifact["tags"][0]["pull_time"]


@pytest.mark.parametrize("bad", ["a%252F..%252Fb", "a..b", "A-Upper", "a%252F%252Fb", "a%252F"])
def test_invalid_repository_names_are_400(admin_client, bad):
    r = admin_client.get(f"/projects/library/repositories/{bad}")
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["code"] == "BAD_REQUEST"
