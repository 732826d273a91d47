"""A private project is indistinguishable from a missing one for callers who may not see it.

Every endpoint that takes a project id or name is walked as a non-member (and anonymously)
while the private project exists, and again after it was deleted (so its id and name are
free): status, content type and body must be byte-for-byte the same. Harbor's
``HEAD /projects?project_name=`` is the one exception (it answers whether a name is taken,
to any signed-in user, as ``POST /projects`` does with its 409): see docs/permissions.md.
"""

from __future__ import annotations

import pytest

from tests.conftest import unique

pytestmark = pytest.mark.api

NAME = {"X-Is-Resource-Name": "true"}


def _walk(project_id: int, name: str, repo: str, member_id: int, label_id: int, source: str):
    """(method, url, json body, extra headers) for every project-scoped endpoint."""
    p, n, r = project_id, name, repo
    art = f"/projects/{n}/repositories/{r}/artifacts/latest"
    calls = []
    for ref, headers in ((str(p), {}), (n, NAME), (n, {})):
        base = f"/projects/{ref}"
        calls += [
            ("GET", base, None, headers),
            ("PUT", base, {"metadata": {"auto_scan": "true"}}, headers),
            ("DELETE", base, None, headers),
            ("GET", f"{base}/summary", None, headers),
            ("GET", f"{base}/metadatas", None, headers),
            ("POST", f"{base}/metadatas", {"auto_scan": "true"}, headers),
            ("GET", f"{base}/metadatas/public", None, headers),
            ("PUT", f"{base}/metadatas/auto_scan", {"auto_scan": "false"}, headers),
            ("DELETE", f"{base}/metadatas/auto_scan", None, headers),
            ("GET", f"{base}/members", None, headers),
            (
                "POST",
                f"{base}/members",
                {"role_id": 3, "member_user": {"username": "admin"}},
                headers,
            ),
            ("GET", f"{base}/members/{member_id}", None, headers),
            ("PUT", f"{base}/members/{member_id}", {"role_id": 2}, headers),
            ("DELETE", f"{base}/members/{member_id}", None, headers),
        ]
    calls += [
        ("GET", f"/labels?scope=p&project_id={p}", None, {}),
        ("POST", "/labels", {"name": "l", "scope": "p", "project_id": p}, {}),
        ("GET", f"/labels/{label_id}", None, {}),
        ("PUT", f"/labels/{label_id}", {"name": "l2"}, {}),
        ("DELETE", f"/labels/{label_id}", None, {}),
        ("GET", f"/robots?q=ProjectID={p}", None, {}),
        (
            "POST",
            "/robots",
            {
                "name": "r",
                "level": "project",
                "duration": -1,
                "permissions": [
                    {
                        "kind": "project",
                        "namespace": n,
                        "access": [{"resource": "repository", "action": "pull", "effect": "allow"}],
                    }
                ],
            },
            {},
        ),
        ("GET", f"/projects/{n}/logs", None, {}),
        ("GET", f"/projects/{n}/repositories", None, {}),
        ("GET", f"/projects/{n}/repositories/{r}", None, {}),
        ("PUT", f"/projects/{n}/repositories/{r}", {"description": "x"}, {}),
        ("DELETE", f"/projects/{n}/repositories/{r}", None, {}),
        ("GET", f"/projects/{n}/repositories/{r}/artifacts", None, {}),
        ("POST", f"/projects/{n}/repositories/{r}/artifacts?from={source}:latest", None, {}),
        ("GET", art, None, {}),
        ("DELETE", art, None, {}),
        ("GET", f"{art}/tags", None, {}),
        ("POST", f"{art}/tags", {"name": "v2"}, {}),
        ("DELETE", f"{art}/tags/latest", None, {}),
        ("GET", f"{art}/accessories", None, {}),
        ("POST", f"{art}/labels", {"id": label_id}, {}),
        ("DELETE", f"{art}/labels/{label_id}", None, {}),
        ("GET", f"{art}/additions/build_history", None, {}),
    ]
    return calls


def _answers(client, calls) -> list[tuple]:
    out = []
    for method, url, body, headers in calls:
        r = client.request(
            method, url, json=body, headers={**headers, "X-Request-Id": "same-request-id"}
        )
        out.append((method, url, r.status_code, r.headers.get("Content-Type"), r.content))
    return out


def test_private_project_answers_like_a_missing_one(admin_client, anon_client, new_user, pusher):
    name = unique("hidden")
    r = admin_client.post("/projects", json={"project_name": name, "metadata": {"public": "false"}})
    assert r.status_code == 201, r.text
    project_id = int(r.headers["Location"].rsplit("/", 1)[1])
    repo = "app"
    pusher.image(f"{name}/{repo}", "latest")
    member_id = admin_client.get(f"/projects/{project_id}/members").json()[0]["id"]
    r = admin_client.post(
        "/labels", json={"name": unique("l"), "scope": "p", "project_id": project_id}
    )
    assert r.status_code == 201, r.text
    label_id = int(r.headers["Location"].rsplit("/", 1)[1])
    _, _, _, outsider = new_user()
    source = f"library/{unique('src')}"
    pusher.image(source, "latest")
    calls = _walk(project_id, name, repo, member_id, label_id, source)

    hidden = {
        who: _answers(client, calls)
        for who, client in (("outsider", outsider), ("anonymous", anon_client))
    }
    assert admin_client.delete(f"/projects/{name}/repositories/{repo}").status_code == 200
    assert admin_client.delete(f"/labels/{label_id}").status_code == 200
    assert admin_client.delete(f"/projects/{project_id}").status_code == 200
    missing = {
        who: _answers(client, calls)
        for who, client in (("outsider", outsider), ("anonymous", anon_client))
    }

    for who in hidden:
        for before, after in zip(hidden[who], missing[who], strict=True):
            assert before == after, who
    # the walk did reach the handlers: a non-member is told "not found", nothing else
    statuses = {status for _m, _u, status, _t, _b in hidden["outsider"]}
    assert statuses <= {404}, sorted(statuses)
    texts = b" ".join(body for *_x, body in hidden["outsider"])
    assert texts.count(f"project {project_id} not found".encode()) >= 14


def test_free_id_and_name_answer_the_same_as_a_hidden_one(admin_client, new_user):
    """The same message shape for a hidden and a free id/name (only the reference differs)."""
    name = unique("hidden")
    r = admin_client.post("/projects", json={"project_name": name, "metadata": {"public": "false"}})
    project_id = int(r.headers["Location"].rsplit("/", 1)[1])
    _, _, _, outsider = new_user()
    try:
        for hidden_ref, free_ref in ((str(project_id), "2147480000"), (name, unique("free"))):
            for suffix in ("", "/summary", "/metadatas", "/members"):
                a = outsider.get(f"/projects/{hidden_ref}{suffix}")
                b = outsider.get(f"/projects/{free_ref}{suffix}")
                assert (a.status_code, b.status_code) == (404, 404)
                assert a.content.replace(hidden_ref.encode(), b"REF") == b.content.replace(
                    free_ref.encode(), b"REF"
                )
        for url in ("/labels?scope=p&project_id={}", "/robots?q=ProjectID={}"):
            a = outsider.get(url.format(project_id))
            b = outsider.get(url.format(2147480000))
            assert (a.status_code, b.status_code) == (404, 404), (a.text, b.text)
            assert a.content.replace(str(project_id).encode(), b"REF") == b.content.replace(
                b"2147480000", b"REF"
            )
    finally:
        admin_client.delete(f"/projects/{project_id}")
