"""Labels: global (system admin) and project scoped (project admins and maintainers)."""

import pytest

from tests.conftest import unique

pytestmark = pytest.mark.api


def _project_id(client, name):
    return client.get(f"/projects/{name}", headers={"X-Is-Resource-Name": "true"}).json()[
        "project_id"
    ]


def test_global_label_lifecycle(admin_client):
    name = unique("lbl")
    r = admin_client.post(
        "/labels", json={"name": name, "color": "#61717D", "description": "d", "scope": "g"}
    )
    assert r.status_code == 201, r.text
    label_id = int(r.headers["Location"].rsplit("/", 1)[1])
    got = admin_client.get(f"/labels/{label_id}").json()
    assert got["name"] == name and got["scope"] == "g" and got["color"] == "#61717D"
    assert got["creation_time"].endswith("Z")
    assert admin_client.post("/labels", json={"name": name, "scope": "g"}).status_code == 409
    r = admin_client.put(f"/labels/{label_id}", json={"name": name + "x", "description": "e"})
    assert r.status_code == 200
    assert admin_client.get(f"/labels/{label_id}").json()["description"] == "e"
    listed = admin_client.get("/labels", params={"scope": "g", "name": name}).json()
    assert [lb["id"] for lb in listed] == [label_id]
    assert admin_client.delete(f"/labels/{label_id}").status_code == 200
    assert admin_client.get(f"/labels/{label_id}").status_code == 404


def test_label_validation(admin_client):
    assert admin_client.post("/labels", json={"name": "", "scope": "g"}).status_code == 400
    assert admin_client.post("/labels", json={"name": "x", "color": "red"}).status_code == 400
    assert admin_client.post("/labels", json={"name": "x", "scope": "p"}).status_code == 400
    assert admin_client.get("/labels", params={"scope": "p"}).status_code == 400
    assert admin_client.get("/labels/999999").status_code == 404


def test_global_labels_need_sysadmin(admin_client, new_user):
    _, _, _, client = new_user()
    assert client.post("/labels", json={"name": unique("l"), "scope": "g"}).status_code == 403
    assert client.get("/labels", params={"scope": "g"}).status_code == 200


def test_anonymous_cannot_list_global_labels(anon_client):
    assert anon_client.get("/labels").status_code == 401


def test_project_labels_and_paging(admin_client, project, new_user):
    pid = _project_id(admin_client, project)
    for i in range(3):
        r = admin_client.post("/labels", json={"name": f"l{i}", "scope": "p", "project_id": pid})
        assert r.status_code == 201, r.text
    r = admin_client.get(
        "/labels", params={"scope": "p", "project_id": pid, "page_size": 2, "sort": "name"}
    )
    assert r.status_code == 200 and r.headers["X-Total-Count"] == "3"
    assert [lb["name"] for lb in r.json()] == ["l0", "l1"]
    assert 'rel="next"' in r.headers["Link"]
    page2 = admin_client.get(
        "/labels",
        params={"scope": "p", "project_id": pid, "page": 2, "page_size": 2, "sort": "name"},
    )
    assert [lb["name"] for lb in page2.json()] == ["l2"]
    assert page2.json()[0]["project_id"] == pid
    # a user outside the private project sees nothing of it
    _, _, _, outsider = new_user()
    assert outsider.get("/labels", params={"scope": "p", "project_id": pid}).status_code == 404
    assert (
        outsider.post("/labels", json={"name": "z", "scope": "p", "project_id": pid}).status_code
        == 404
    )


def test_label_changes_are_audited(admin_client):
    name = unique("audited")
    r = admin_client.post("/labels", json={"name": name, "scope": "g"})
    label_id = int(r.headers["Location"].rsplit("/", 1)[1])
    admin_client.delete(f"/labels/{label_id}")
    logs = admin_client.get("/audit-logs", params={"q": f"resource={name},resource_type=label"})
    assert sorted(e["operation"] for e in logs.json()) == ["create", "delete"]
