"""Artifacts, tags, labels, accessories, additions and copies."""

import pytest

from tests.conftest import unique

pytestmark = pytest.mark.api


def _base(project, repo):
    return f"/projects/{project}/repositories/{repo.replace('/', '%252F')}"


def test_get_by_tag_and_digest(admin_client, project, pusher):
    img = pusher.image(f"{project}/app", "v1", arch="arm64")
    by_tag = admin_client.get(f"{_base(project, 'app')}/artifacts/v1")
    assert by_tag.status_code == 200, by_tag.text
    a = by_tag.json()
    assert a["digest"] == img.digest and a["type"] == "IMAGE"
    assert a["repository_name"] == f"{project}/app" and a["size"] == img.size
    assert a["manifest_media_type"] == "application/vnd.oci.image.manifest.v1+json"
    assert a["media_type"] == "application/vnd.oci.image.config.v1+json"
    assert a["extra_attrs"]["architecture"] == "arm64" and a["extra_attrs"]["os"] == "linux"
    assert a["extra_attrs"]["config"]["Cmd"] == ["/bin/sh"]
    assert [t["name"] for t in a["tags"]] == ["v1"] and "labels" not in a
    by_digest = admin_client.get(f"{_base(project, 'app')}/artifacts/{img.digest}").json()
    assert by_digest["id"] == a["id"]
    history = admin_client.get(f"{_base(project, 'app')}/artifacts/v1/additions/build_history")
    assert history.status_code == 200 and len(history.json()) == 2
    assert a["addition_links"]["build_history"]["href"].endswith("/additions/build_history")
    vulns = admin_client.get(f"{_base(project, 'app')}/artifacts/v1/additions/vulnerabilities")
    assert vulns.status_code == 200 and vulns.json() == {}
    assert (
        admin_client.get(f"{_base(project, 'app')}/artifacts/v1/additions/readme.md").status_code
        == 404
    )
    assert admin_client.get(f"{_base(project, 'app')}/artifacts/nope").status_code == 404
    assert admin_client.get(f"{_base(project, 'app')}/artifacts/bad%20ref").status_code == 400


def test_list_filters_sort_paging(admin_client, project, pusher):
    repo = f"{project}/many"
    pushed = [pusher.image(repo, f"t{i}") for i in range(3)]
    untagged = pusher.image(repo, None)
    url = f"{_base(project, 'many')}/artifacts"
    r = admin_client.get(url, params={"page_size": 2})
    assert r.status_code == 200 and r.headers["X-Total-Count"] == "4"
    assert [a["digest"] for a in r.json()] == [untagged.digest, pushed[2].digest]
    assert 'rel="next"' in r.headers["Link"]
    oldest = admin_client.get(url, params={"sort": "push_time", "page_size": 1}).json()
    assert oldest[0]["digest"] == pushed[0].digest
    tagged = admin_client.get(url, params={"q": "tags=*"})
    assert tagged.headers["X-Total-Count"] == "3"
    assert [a["digest"] for a in admin_client.get(url, params={"q": "tags=nil"}).json()] == [
        untagged.digest
    ]
    assert [a["digest"] for a in admin_client.get(url, params={"q": "tags=t1"}).json()] == [
        pushed[1].digest
    ]
    assert (
        admin_client.get(url, params={"q": f"digest={pushed[0].digest}"}).headers["X-Total-Count"]
        == "1"
    )
    assert admin_client.get(url, params={"q": "type=IMAGE"}).headers["X-Total-Count"] == "4"
    assert admin_client.get(url, params={"q": "type=CHART"}).json() == []
    assert (
        admin_client.get(
            url, params={"q": "media_type=application/vnd.oci.image.config.v1+json"}
        ).headers["X-Total-Count"]
        == "4"
    )
    no_tags = admin_client.get(url, params={"with_tag": "false"}).json()
    assert "tags" not in no_tags[0]
    assert admin_client.get(url, params={"q": "bogus=1"}).status_code == 400


def test_index_references_and_accessories(admin_client, project, pusher):
    repo = f"{project}/multi/arch"
    idx = pusher.index(repo, "latest")
    sig = pusher.signature(repo, idx.digest)
    url = f"{_base(project, 'multi/arch')}/artifacts"
    listed = admin_client.get(url, params={"with_accessory": "true", "with_signature": "true"})
    [top] = listed.json()  # children and the signature are not top-level
    assert top["digest"] == idx.digest and top["type"] == "IMAGE"
    refs = top["references"]
    assert {r["child_digest"] for r in refs} == {c.digest for c in idx.children}
    assert {r["platform"]["architecture"] for r in refs} == {"amd64", "arm64"}
    [acc] = top["accessories"]
    assert acc["digest"] == sig and acc["type"] == "signature.cosign"
    assert acc["subject_artifact_digest"] == idx.digest
    assert top["tags"][0]["signed"] is True
    child = admin_client.get(f"{url}/{idx.children[0].digest}").json()
    assert child["extra_attrs"]["architecture"] in {"amd64", "arm64"}
    accs = admin_client.get(f"{url}/latest/accessories")
    assert accs.headers["X-Total-Count"] == "1"
    # a child of an index cannot be deleted on its own
    assert admin_client.delete(f"{url}/{idx.children[0].digest}").status_code == 400
    # deleting the index removes its children and accessories
    assert admin_client.delete(f"{url}/latest").status_code == 200
    assert admin_client.get(f"{url}/{idx.children[0].digest}").status_code == 404
    assert admin_client.get(f"{url}/{sig}").status_code == 404
    assert admin_client.get(url).json() == []


def test_tags_create_list_delete(admin_client, project, pusher):
    img = pusher.image(f"{project}/tagged", "v1")
    url = f"{_base(project, 'tagged')}/artifacts/{img.digest}/tags"
    r = admin_client.post(url, json={"name": "stable"})
    assert r.status_code == 201 and r.headers["Location"].endswith("/tags/stable")
    assert admin_client.post(url, json={"name": "stable"}).status_code == 409
    for bad in ("-bad", "has space", "x" * 129, ""):
        assert admin_client.post(url, json={"name": bad}).status_code == 400
    r = admin_client.get(url, params={"sort": "name"})
    assert r.headers["X-Total-Count"] == "2" and [t["name"] for t in r.json()] == ["stable", "v1"]
    assert [t["name"] for t in admin_client.get(url, params={"q": "name=~sta"}).json()] == [
        "stable"
    ]
    pulled = pusher.http.get(
        f"{pusher.base}/v2/{project}/tagged/manifests/stable",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
    )
    assert pulled.status_code == 200
    assert admin_client.delete(f"{url}/stable").status_code == 200
    assert admin_client.delete(f"{url}/stable").status_code == 404
    assert admin_client.get(f"{_base(project, 'tagged')}/artifacts/stable").status_code == 404
    ops = admin_client.get(
        f"/projects/{project}/logs", params={"q": f"resource_type=tag,resource=~{project}/"}
    ).json()
    assert sorted(e["operation"] for e in ops) == ["create", "delete"]


def test_labels_attach_and_filter(admin_client, project, pusher):
    img = pusher.image(f"{project}/labelled", "v1")
    other = pusher.image(f"{project}/labelled", "v2")
    name = unique("gl")
    r = admin_client.post("/labels", json={"name": name, "scope": "g"})
    label_id = int(r.headers["Location"].rsplit("/", 1)[1])
    url = f"{_base(project, 'labelled')}/artifacts"
    assert admin_client.post(f"{url}/v1/labels", json={"id": label_id}).status_code == 200
    assert admin_client.post(f"{url}/v1/labels", json={"id": label_id}).status_code == 409
    assert admin_client.post(f"{url}/v1/labels", json={"id": 999999}).status_code == 404
    got = admin_client.get(f"{url}/v1", params={"with_label": "true"}).json()
    assert [lb["name"] for lb in got["labels"]] == [name]
    filtered = admin_client.get(url, params={"q": f"label_id={label_id}"}).json()
    assert [a["digest"] for a in filtered] == [img.digest]
    assert other.digest not in [a["digest"] for a in filtered]
    assert admin_client.delete(f"{url}/v1/labels/{label_id}").status_code == 200
    assert admin_client.delete(f"{url}/v1/labels/{label_id}").status_code == 404
    assert admin_client.get(f"{url}/v1", params={"with_label": "true"}).json()["labels"] == []
    # deleting an attached label detaches it everywhere
    assert admin_client.post(f"{url}/v1/labels", json={"id": label_id}).status_code == 200
    assert admin_client.delete(f"/labels/{label_id}").status_code == 200
    assert admin_client.get(f"{url}/v1", params={"with_label": "true"}).json()["labels"] == []


def test_project_label_stays_in_its_project(admin_client, project, pusher):
    pusher.image(f"{project}/scoped", "v1")
    other = unique("other")
    assert admin_client.post("/projects", json={"project_name": other}).status_code == 201
    try:
        other_id = admin_client.get(
            f"/projects/{other}", headers={"X-Is-Resource-Name": "true"}
        ).json()["project_id"]
        r = admin_client.post(
            "/labels", json={"name": "mine", "scope": "p", "project_id": other_id}
        )
        label_id = int(r.headers["Location"].rsplit("/", 1)[1])
        r = admin_client.post(
            f"{_base(project, 'scoped')}/artifacts/v1/labels", json={"id": label_id}
        )
        assert r.status_code == 404
    finally:
        admin_client.delete(f"/projects/{other}", headers={"X-Is-Resource-Name": "true"})


def test_copy_between_repositories(admin_client, project, pusher):
    idx = pusher.index(f"{project}/src", "1.0")
    r = admin_client.post(
        f"{_base(project, 'dst/copy')}/artifacts", params={"from": f"{project}/src:1.0"}
    )
    assert r.status_code == 201, r.text
    assert r.headers["Location"].endswith(f"dst%252Fcopy/artifacts/{idx.digest}")
    copied = admin_client.get(f"{_base(project, 'dst/copy')}/artifacts/1.0").json()
    assert copied["digest"] == idx.digest and len(copied["references"]) == 2
    pulled = pusher.http.get(
        f"{pusher.base}/v2/{project}/dst/copy/manifests/{idx.children[0].digest}",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
    )
    assert pulled.status_code == 200
    config = pulled.json()["config"]["digest"]
    assert pusher.http.get(f"{pusher.base}/v2/{project}/dst/copy/blobs/{config}").status_code == 200
    bad = admin_client.post(f"{_base(project, 'dst')}/artifacts", params={"from": "nonsense"})
    assert bad.status_code == 400
    missing = admin_client.post(
        f"{_base(project, 'dst')}/artifacts", params={"from": f"{project}/src:nope"}
    )
    assert missing.status_code == 404


def test_permissions(admin_client, project, pusher, new_user):
    pusher.image(f"{project}/guarded", "v1")
    _, username, _, client = new_user()
    url = f"{_base(project, 'guarded')}/artifacts"
    assert client.get(url).status_code == 404
    admin_client.post(
        f"/projects/{project}/members", json={"role_id": 3, "member_user": {"username": username}}
    )  # guest
    assert client.get(f"{url}/v1").status_code == 200
    assert client.delete(f"{url}/v1").status_code == 403
    assert client.post(f"{url}/v1/tags", json={"name": "x"}).status_code == 403


def test_delete_artifact_removes_tags_and_is_audited(admin_client, project, pusher):
    img = pusher.image(f"{project}/gone", "v1")
    url = f"{_base(project, 'gone')}/artifacts"
    assert admin_client.delete(f"{url}/v1").status_code == 200
    assert admin_client.get(f"{url}/{img.digest}").status_code == 404
    r = pusher.http.get(f"{pusher.base}/v2/{project}/gone/manifests/v1")
    assert r.status_code == 404
    assert admin_client.get(f"{_base(project, 'gone')}").json()["artifact_count"] == 0
    logs = admin_client.get(
        f"/projects/{project}/logs",
        params={"q": f"resource_type=artifact,operation=delete,resource=~{project}/"},
    ).json()
    assert [e["resource"] for e in logs] == [f"{project}/gone@{img.digest}"]
