"""Search: projects and repositories the caller may see."""

import pytest

from tests.conftest import unique

pytestmark = pytest.mark.api


def test_search_finds_projects_and_repositories(admin_client, project, pusher):
    repo = unique("findme")
    pusher.image(f"{project}/{repo}", "v1")
    r = admin_client.get("/search", params={"q": project})
    assert r.status_code == 200
    body = r.json()
    [found] = [p for p in body["project"] if p["name"] == project]
    assert found["repo_count"] == 1 and found["metadata"]["public"] == "false"
    [hit] = body["repository"]
    assert hit["repository_name"] == f"{project}/{repo}" and hit["project_name"] == project
    assert hit["artifact_count"] == 1 and hit["project_public"] is False
    repos = admin_client.get("/search", params={"q": repo}).json()["repository"]
    assert [x["repository_name"] for x in repos] == [f"{project}/{repo}"]


def test_search_hides_private_projects(admin_client, project, pusher, anon_client, new_user):
    pusher.image(f"{project}/hidden", "v1")
    for client in (anon_client, new_user()[3]):
        body = client.get("/search", params={"q": project}).json()
        assert body["project"] == [] and body["repository"] == []


def test_search_sees_public_projects(anon_client):
    body = anon_client.get("/search", params={"q": "librar"}).json()
    assert "library" in [p["name"] for p in body["project"]]


def test_search_wildcards_are_literal(admin_client):
    assert admin_client.get("/search", params={"q": "%_"}).json()["project"] == []
