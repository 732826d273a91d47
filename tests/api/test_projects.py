"""Projects: creation rules, visibility, paging, name-or-id addressing, deletion, summary,
metadata."""

from urllib.parse import urlencode

import pytest

from tests.conftest import unique

pytestmark = pytest.mark.api

NAME = {"X-Is-Resource-Name": "true"}
PROJECT_FIELDS = {
    "project_id",
    "owner_id",
    "name",
    "registry_id",
    "creation_time",
    "update_time",
    "deleted",
    "owner_name",
    "togglable",
    "current_user_role_id",
    "current_user_role_ids",
    "repo_count",
    "metadata",
    "cve_allowlist",
}


def _error(response, status, code):
    assert response.status_code == status, response.text
    assert response.json()["errors"][0]["code"] == code


def _database(server):
    from harbor_api.db.session import Database

    return Database(server.database_url or f"sqlite:///{server.data_dir / 'harbor.db'}")


def test_create_and_get_by_name_and_id(admin_client):
    name = unique("p")
    r = admin_client.post(
        "/projects",
        json={
            "project_name": name,
            "metadata": {"public": "true", "auto_scan": "true", "severity": "high"},
        },
    )
    assert r.status_code == 201, r.text
    project_id = int(r.headers["Location"].rsplit("/", 1)[1])
    by_id = admin_client.get(f"/projects/{project_id}").json()
    by_name = admin_client.get(f"/projects/{name}", headers=NAME).json()
    assert by_id == by_name
    assert set(by_id) == PROJECT_FIELDS
    assert by_id["name"] == name and by_id["deleted"] is False
    assert by_id["owner_name"] == "admin" and by_id["repo_count"] == 0
    assert by_id["current_user_role_id"] == 1 and by_id["current_user_role_ids"] == [1]
    assert by_id["metadata"] == {"public": "true", "auto_scan": "true", "severity": "high"}
    assert admin_client.get(f"/projects/{name}").json()["project_id"] == project_id
    assert admin_client.delete(f"/projects/{project_id}").status_code == 200
    _error(admin_client.get(f"/projects/{project_id}"), 404, "NOT_FOUND")


def test_location_with_resource_name(admin_client):
    name = unique("p")
    r = admin_client.post(
        "/projects", json={"project_name": name}, headers={"X-Resource-Name-In-Location": "true"}
    )
    assert r.status_code == 201 and r.headers["Location"] == f"/api/v2.0/projects/{name}"
    project = admin_client.get(r.headers["Location"], headers=NAME).json()
    assert project["metadata"]["public"] == "false"
    admin_client.delete(f"/projects/{name}", headers=NAME)


def test_deprecated_public_flag(admin_client):
    name = unique("p")
    assert (
        admin_client.post("/projects", json={"project_name": name, "public": True}).status_code
        == 201
    )
    assert admin_client.get(f"/projects/{name}").json()["metadata"]["public"] == "true"
    admin_client.delete(f"/projects/{name}")


@pytest.mark.parametrize(
    "name", ["UPPER", "-lead", "trail-", "a..b", "sp ace", "", "x" * 256, "a/b", "ä"]
)
def test_invalid_names(admin_client, name):
    _error(admin_client.post("/projects", json={"project_name": name}), 400, "BAD_REQUEST")


@pytest.mark.parametrize(
    "body",
    [
        {"project_name": "okname", "metadata": {"public": "maybe"}},
        {"project_name": "okname", "metadata": {"severity": "bad"}},
        {"project_name": "okname", "metadata": {"public": True}},
        {"project_name": "okname", "storage_limit": 0},
        {"project_name": "okname", "registry_id": 987654},  # unknown
        {"project_name": 5},
        {},
        [],
    ],
)
def test_invalid_bodies(admin_client, body):
    _error(admin_client.post("/projects", json=body), 400, "BAD_REQUEST")


def test_duplicate_conflicts(admin_client, project):
    _error(admin_client.post("/projects", json={"project_name": project}), 409, "CONFLICT")


def test_head_project(admin_client, anon_client, new_user, project):
    assert admin_client.head("/projects", params={"project_name": project}).status_code == 200
    assert admin_client.head("/projects", params={"project_name": "no-such"}).status_code == 404
    assert anon_client.head("/projects", params={"project_name": project}).status_code == 401
    _, _, _, client = new_user()
    assert client.head("/projects", params={"project_name": project}).status_code == 200


def test_private_project_invisible_is_404_not_403(anon_client, new_user, project):
    _, _, _, client = new_user()
    for c in (client, anon_client):
        _error(c.get(f"/projects/{project}"), 404, "NOT_FOUND")
        _error(c.get(f"/projects/{project}/summary"), 404, "NOT_FOUND")
        _error(c.delete(f"/projects/{project}"), 404, "NOT_FOUND")
        assert project not in [
            p["name"] for p in c.get("/projects", params={"name": project}).json()
        ]


def test_member_sees_private_project_and_role(admin_client, new_user, project):
    user_id, _, _, client = new_user()
    admin_client.post(
        f"/projects/{project}/members", json={"role_id": 3, "member_user": {"user_id": user_id}}
    )
    seen = client.get(f"/projects/{project}").json()
    assert seen["current_user_role_id"] == 3 and seen["togglable"] is False
    listed = client.get("/projects", params={"name": project}).json()
    assert [p["name"] for p in listed] == [project]
    _error(
        client.put(f"/projects/{project}", json={"metadata": {"public": "true"}}), 403, "FORBIDDEN"
    )
    _error(client.delete(f"/projects/{project}"), 403, "FORBIDDEN")


def test_public_project_visible_to_anonymous(admin_client, anon_client, project):
    assert (
        admin_client.put(f"/projects/{project}", json={"metadata": {"public": "true"}}).status_code
        == 200
    )
    seen = anon_client.get(f"/projects/{project}").json()
    assert seen["metadata"]["public"] == "true" and "current_user_role_id" not in seen
    assert seen["current_user_role_ids"] == []
    _error(
        anon_client.put(f"/projects/{project}", json={"metadata": {"public": "false"}}),
        401,
        "UNAUTHORIZED",
    )


def test_update_keeps_name_and_merges_metadata(admin_client, project):
    before = admin_client.get(f"/projects/{project}").json()
    assert (
        admin_client.put(
            f"/projects/{project}",
            json={
                "project_name": "ignored",
                "metadata": {"prevent_vul": "true", "severity": "low"},
                "storage_limit": -1,
            },
        ).status_code
        == 200
    )
    after = admin_client.get(f"/projects/{project}").json()
    assert after["name"] == project
    assert after["metadata"] == {"public": "false", "prevent_vul": "true", "severity": "low"}
    assert after["update_time"] >= before["update_time"]
    _error(
        admin_client.put(f"/projects/{project}", json={"metadata": {"nope": "1"}}),
        400,
        "BAD_REQUEST",
    )
    _error(admin_client.put("/projects/no-such-project", json={}), 404, "NOT_FOUND")


def test_list_filters_sort_and_paging(admin_client, new_user):
    user_id, owner, _, client = new_user()
    prefix = unique("lst")
    names = [f"{prefix}-{i}" for i in range(3)]
    for i, name in enumerate(names):
        body = {"project_name": name, "metadata": {"public": "true" if i == 0 else "false"}}
        assert client.post("/projects", json=body).status_code == 201
    r = admin_client.get(
        "/projects", params={"name": prefix, "page": 2, "page_size": 1, "sort": "-name"}
    )
    assert r.headers["X-Total-Count"] == "3"
    assert [p["name"] for p in r.json()] == [names[1]]
    prev = "/api/v2.0/projects?" + urlencode(
        [("name", prefix), ("page", "1"), ("page_size", "1"), ("sort", "-name")]
    )
    nxt = "/api/v2.0/projects?" + urlencode(
        [("name", prefix), ("page", "3"), ("page_size", "1"), ("sort", "-name")]
    )
    assert r.headers["Link"] == f'<{prev}>; rel="prev" , <{nxt}>; rel="next"'
    public = admin_client.get("/projects", params={"name": prefix, "public": "true"}).json()
    assert [p["name"] for p in public] == [names[0]]
    private = admin_client.get("/projects", params={"q": f"name=~{prefix},public=false"}).json()
    assert sorted(p["name"] for p in private) == names[1:]
    owned = admin_client.get("/projects", params={"owner": owner, "sort": "name"}).json()
    assert [p["name"] for p in owned] == names
    assert all(p["owner_name"] == owner and p["owner_id"] == user_id for p in owned)
    exact = admin_client.get("/projects", params={"q": f"name={names[2]}"}).json()
    assert [p["name"] for p in exact] == [names[2]]
    anyof = admin_client.get(
        "/projects", params={"q": f"name={{{names[0]} {names[2]}}}", "sort": "name"}
    ).json()
    assert [p["name"] for p in anyof] == [names[0], names[2]]
    _error(admin_client.get("/projects", params={"q": "bogus=1"}), 400, "BAD_REQUEST")
    _error(admin_client.get("/projects", params={"sort": "bogus"}), 400, "BAD_REQUEST")
    _error(admin_client.get("/projects", params={"q": "creation_time=[x~y]"}), 400, "BAD_REQUEST")
    for name in names:
        assert client.delete(f"/projects/{name}").status_code == 200


def test_creation_restriction_adminonly(admin_client, new_user):
    _, _, _, client = new_user()
    assert (
        admin_client.put(
            "/configurations", json={"project_creation_restriction": "adminonly"}
        ).status_code
        == 200
    )
    try:
        _error(client.post("/projects", json={"project_name": unique("r")}), 403, "FORBIDDEN")
        name = unique("r")
        assert admin_client.post("/projects", json={"project_name": name}).status_code == 201
        admin_client.delete(f"/projects/{name}")
    finally:
        admin_client.put("/configurations", json={"project_creation_restriction": "everyone"})
    name = unique("r")
    assert client.post("/projects", json={"project_name": name}).status_code == 201
    assert client.get(f"/projects/{name}").json()["current_user_role_id"] == 1
    assert client.delete(f"/projects/{name}").status_code == 200


def test_delete_with_repositories_is_412(admin_client, server, project):
    from sqlalchemy import delete, select

    from harbor_api.db.models import Project, Repository

    db = _database(server)
    try:
        with db.transaction() as s:
            project_id = s.scalar(select(Project.id).where(Project.name == project))
            s.add(Repository(project_id=project_id, name=f"{project}/app"))
        _error(admin_client.delete(f"/projects/{project}"), 412, "PRECONDITION")
        listed = admin_client.get("/projects", params={"name": project}).json()
        assert listed[0]["repo_count"] == 1
        assert admin_client.get(f"/projects/{project}/summary").json()["repo_count"] == 1
        with db.transaction() as s:
            s.execute(delete(Repository).where(Repository.project_id == project_id))
    finally:
        db.dispose()
    assert admin_client.delete(f"/projects/{project}").status_code == 200


def test_summary_counts_members(admin_client, new_user, project):
    for role in (2, 3, 4, 5):
        user_id, *_ = new_user()
        admin_client.post(
            f"/projects/{project}/members",
            json={"role_id": role, "member_user": {"user_id": user_id}},
        )
    summary = admin_client.get(f"/projects/{project}/summary").json()
    # registry: the proxy cache's upstream, as Harbor; null for an ordinary project
    assert summary == {
        "repo_count": 0,
        "project_admin_count": 1,
        "maintainer_count": 1,
        "developer_count": 1,
        "guest_count": 1,
        "limited_guest_count": 1,
        "registry": None,
        "quota": {"hard": {"storage": -1}, "used": {"storage": 0}},
    }


def test_numeric_name_needs_header(admin_client):
    name = "1234567"
    assert admin_client.post("/projects", json={"project_name": name}).status_code == 201
    _error(admin_client.get(f"/projects/{name}"), 404, "NOT_FOUND")  # read as an id
    assert admin_client.get(f"/projects/{name}", headers=NAME).json()["name"] == name
    assert admin_client.delete(f"/projects/{name}", headers=NAME).status_code == 200


def test_metadata_endpoints(admin_client, new_user, project):
    base = f"/projects/{project}/metadatas"
    assert admin_client.get(base).json() == {"public": "false"}
    assert (
        admin_client.post(base, json={"auto_scan": "true", "proxy_speed_kb": "100"}).status_code
        == 200
    )
    assert admin_client.get(f"{base}/auto_scan").json() == {"auto_scan": "true"}
    assert admin_client.put(f"{base}/auto_scan", json={"auto_scan": "false"}).status_code == 200
    assert admin_client.get(base).json() == {
        "public": "false",
        "auto_scan": "false",
        "proxy_speed_kb": "100",
    }
    _error(admin_client.put(f"{base}/auto_scan", json={"prevent_vul": "true"}), 400, "BAD_REQUEST")
    _error(admin_client.post(base, json={"unknown": "x"}), 400, "BAD_REQUEST")
    _error(admin_client.post(base, json={"auto_scan": "sometimes"}), 400, "BAD_REQUEST")
    assert admin_client.delete(f"{base}/auto_scan").status_code == 200
    _error(admin_client.get(f"{base}/auto_scan"), 404, "NOT_FOUND")
    _error(admin_client.delete(f"{base}/auto_scan"), 404, "NOT_FOUND")
    user_id, _, _, client = new_user()
    _error(client.get(base), 404, "NOT_FOUND")
    admin_client.post(
        f"/projects/{project}/members", json={"role_id": 2, "member_user": {"user_id": user_id}}
    )
    _error(client.post(base, json={"auto_scan": "true"}), 403, "FORBIDDEN")


def test_project_changes_are_audited(admin_client, server):
    from sqlalchemy import select

    from harbor_api.db.models import AuditLog

    name = unique("aud")
    admin_client.post("/projects", json={"project_name": name})
    admin_client.put(f"/projects/{name}", json={"metadata": {"auto_scan": "true"}})
    admin_client.delete(f"/projects/{name}")
    db = _database(server)
    try:
        with db.read() as s:
            ops = s.scalars(
                select(AuditLog.operation)
                .where(AuditLog.resource_type == "project", AuditLog.resource == name)
                .order_by(AuditLog.id)
            ).all()
    finally:
        db.dispose()
    assert list(ops) == ["create", "update", "delete"]


def test_list_is_not_n_plus_one(admin_client, new_user):
    """A page of 20 projects costs no more requests' time than a page of 1 (smoke check)."""
    _, _, _, client = new_user()
    prefix = unique("np")
    for i in range(20):
        client.post("/projects", json={"project_name": f"{prefix}-{i:02d}"})
    r = client.get("/projects", params={"name": prefix, "page_size": 20})
    assert r.status_code == 200 and len(r.json()) == 20
    assert all(p["current_user_role_id"] == 1 and p["owner_name"] for p in r.json())
    for i in range(20):
        client.delete(f"/projects/{prefix}-{i:02d}")


def test_list_query_count_does_not_grow_with_page_size(tmp_path):
    """No N+1: a page of 25 projects costs the same number of SQL statements as a page of 1."""
    from sqlalchemy import event

    from harbor_api.api.paging import Page
    from harbor_api.auth.principal import Principal
    from harbor_api.db.migrate import upgrade
    from harbor_api.db.session import Database
    from harbor_api.services import projects
    from harbor_api.services.bootstrap import bootstrap
    from harbor_api.services.context import AppState, RequestContext
    from harbor_api.settings import Settings

    db = Database(f"sqlite:///{tmp_path / 'count.db'}")
    try:
        upgrade(db.engine)
        bootstrap(db, "Harbor12345")
        owner = Principal(kind="user", user_id=1, username="admin", via="basic")
        ctx = RequestContext(
            app=AppState(settings=Settings(data_dir=tmp_path), db=db), principal=owner
        )
        for i in range(25):
            projects.create(
                ctx,
                {
                    "project_name": f"count-{i:02d}",
                    "metadata": {"public": "false", "auto_scan": "true"},
                },
            )
        statements: list[str] = []
        event.listen(
            db.engine,
            "before_cursor_execute",
            lambda _c, _cur, statement, *_: statements.append(statement),
        )
        one, _ = projects.list_projects(ctx, Page(1, 1), name="count")
        small = len(statements)
        statements.clear()
        many, total = projects.list_projects(ctx, Page(1, 25), name="count")
        assert len(one) == 1 and len(many) == 25 and total == 25
        assert len(statements) == small, statements
        assert all(p["current_user_role_id"] == 1 and p["owner_name"] == "admin" for p in many)
    finally:
        db.dispose()


def test_cve_allowlist_is_stored_and_returned(admin_client):
    """Harbor's CVEAllowlist, on create and on update (it used to be accepted and dropped)."""
    name = unique("p")
    r = admin_client.post(
        "/projects",
        json={
            "project_name": name,
            "cve_allowlist": {"items": [{"cve_id": "CVE-2021-44228"}], "expires_at": 1893456000},
        },
    )
    assert r.status_code == 201, r.text
    project_id = int(r.headers["Location"].rsplit("/", 1)[1])
    try:
        allow = admin_client.get(f"/projects/{project_id}").json()["cve_allowlist"]
        assert allow["project_id"] == project_id and allow["id"] > 0
        assert allow["items"] == [{"cve_id": "CVE-2021-44228"}]
        assert allow["expires_at"] == 1893456000
        assert {"creation_time", "update_time"} <= set(allow)
        r = admin_client.put(
            f"/projects/{project_id}",
            json={
                "cve_allowlist": {
                    "items": [
                        {"cve_id": " CVE-2022-0001 "},
                        {"cve_id": "CVE-2022-0002"},
                        {"cve_id": "CVE-2022-0001"},
                    ]
                }
            },
        )
        assert r.status_code == 200, r.text
        again = admin_client.get(f"/projects/{name}").json()["cve_allowlist"]
        assert again["items"] == [{"cve_id": "CVE-2022-0001"}, {"cve_id": "CVE-2022-0002"}]
        assert "expires_at" not in again and again["id"] == allow["id"]  # never expires
        listed = [
            p
            for p in admin_client.get("/projects", params={"name": name}).json()
            if p["name"] == name
        ]
        assert listed[0]["cve_allowlist"]["items"] == again["items"]
        # other updates leave it alone
        admin_client.put(f"/projects/{project_id}", json={"metadata": {"auto_scan": "true"}})
        assert (
            admin_client.get(f"/projects/{project_id}").json()["cve_allowlist"]["items"]
            == again["items"]
        )
        for bad in ({"items": [{"cve_id": ""}]}, {"items": [{}]}, {"expires_at": -5}):
            _error(
                admin_client.put(f"/projects/{project_id}", json={"cve_allowlist": bad}),
                400,
                "BAD_REQUEST",
            )
    finally:
        admin_client.delete(f"/projects/{project_id}")


def test_project_without_allowlist_shows_an_empty_one(admin_client, project):
    allow = admin_client.get(f"/projects/{project}").json()["cve_allowlist"]
    assert allow["items"] == [] and allow["project_id"] > 0
