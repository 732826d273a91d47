"""The token service and Bearer authentication on /v2/, through a real server."""

from __future__ import annotations

import base64
import json
import time

import pytest
import requests

from tests.conftest import unique
from tests.support.push import OCI_MANIFEST, Pusher
from tests.support.servers import ADMIN_PASSWORD, running_server
from tests.support.tokens import bearer, claims_of, fetch_token, header_of, token_for

pytestmark = pytest.mark.api

ADMIN = ("admin", ADMIN_PASSWORD)


def add_member(admin_client, project: str, username: str, role: int) -> None:
    r = admin_client.post(
        f"/projects/{project}/members",
        json={"role_id": role, "member_user": {"username": username}},
    )
    assert r.status_code == 201, r.text


def v2(server, method: str, path: str, token: str | None = None, **kwargs):
    headers = kwargs.pop("headers", {})
    if token:
        headers.update(bearer(token))
    return requests.request(
        method, f"{server.url}/v2/{path}", headers=headers, timeout=30, **kwargs
    )


@pytest.fixture
def image(server, project):
    """A private project holding ``<project>/app:v1``; (repository, manifest digest)."""
    pushed = Pusher(server.url).image(f"{project}/app", "v1")
    return f"{project}/app", pushed.digest


def test_token_response_shape_and_claims(server):
    r = fetch_token(server.url, "repository:library/app:pull,push", auth=ADMIN)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"token", "access_token", "expires_in", "issued_at"}
    assert body["token"] == body["access_token"] and body["expires_in"] == 1800
    assert body["issued_at"].endswith("Z")
    header, claims = header_of(body["token"]), claims_of(body["token"])
    assert header["alg"] == "RS256" and len(header["kid"].split(":")) == 12 and header["x5c"]
    assert claims["iss"] == "harbor-token-issuer" and claims["aud"] == "harbor-registry"
    assert claims["sub"] == "admin" and claims["exp"] - claims["iat"] == 1800
    assert claims["access"] == [
        {"type": "repository", "name": "library/app", "actions": ["pull", "push"]}
    ]


def test_anonymous_token_for_public_project(server):
    r = fetch_token(server.url, "repository:library/app:pull,push")
    assert r.status_code == 200
    claims = claims_of(r.json()["token"])
    assert claims["sub"] == ""
    assert claims["access"] == [{"type": "repository", "name": "library/app", "actions": ["pull"]}]


def test_bad_credentials_are_401(server):
    r = fetch_token(server.url, "repository:library/app:pull", auth=("admin", "wrong"))
    assert r.status_code == 401
    r = fetch_token(server.url, auth=(unique("nobody"), "Whatever1"))
    assert r.status_code == 401


def test_repeated_scopes_malformed_ignored_denied_left_out(server, project, new_user):
    _, name, password, _ = new_user()
    r = fetch_token(
        server.url,
        "repository:library/a:pull",
        "repository:library/b:pull,push",
        "nonsense",
        "repository::pull",
        f"repository:{project}/x:pull",
        "registry:catalog:*",
        "repository:localhost:5000/library/a:pull",
        auth=(name, password),
    )
    assert r.status_code == 200
    access = claims_of(r.json()["token"])["access"]
    assert access == [
        {"type": "repository", "name": "library/a", "actions": ["pull"]},
        {"type": "repository", "name": "library/b", "actions": ["pull"]},
    ]
    # (the catalog is for system administrators, as in Harbor)


def test_no_scope_gives_empty_access(server):
    r = requests.get(
        f"{server.url}/service/token",
        params={
            "service": "harbor-registry",
            "account": "admin",
            "client_id": "docker",
            "offline_token": "true",
        },
        auth=ADMIN,
        timeout=30,
    )
    assert r.status_code == 200 and claims_of(r.json()["token"])["access"] == []


def test_granted_actions_follow_the_role(server, admin_client, project, new_user):
    _, guest, guest_pw, _ = new_user()
    _, dev, dev_pw, _ = new_user()
    add_member(admin_client, project, guest, 3)
    add_member(admin_client, project, dev, 2)
    scope = f"repository:{project}/app:pull,push,delete"
    assert claims_of(token_for(server.url, scope, auth=(guest, guest_pw)))["access"][0][
        "actions"
    ] == ["pull"]
    assert claims_of(token_for(server.url, scope, auth=(dev, dev_pw)))["access"][0]["actions"] == [
        "pull",
        "push",
    ]
    assert claims_of(token_for(server.url, scope, auth=ADMIN))["access"][0]["actions"] == [
        "pull",
        "push",
        "delete",
    ]
    star = claims_of(token_for(server.url, f"repository:{project}/app:*", auth=(dev, dev_pw)))
    assert star["access"][0]["actions"] == ["pull", "push"]


def test_challenge_on_v2(server, project):
    base = v2(server, "GET", "")
    assert base.status_code == 401
    assert base.headers["WWW-Authenticate"] == (
        f'Bearer realm="{server.url}/service/token",service="harbor-registry"'
    )
    pull = v2(server, "GET", f"{project}/app/manifests/v1")
    assert pull.status_code == 401
    assert pull.headers["WWW-Authenticate"] == (
        f'Bearer realm="{server.url}/service/token",service="harbor-registry",'
        f'scope="repository:{project}/app:pull"'
    )
    push = v2(server, "POST", f"{project}/app/blobs/uploads/")
    assert push.status_code == 401
    assert push.headers["WWW-Authenticate"].endswith(f'scope="repository:{project}/app:pull,push"')
    delete = v2(server, "DELETE", f"{project}/app/manifests/sha256:{'0' * 64}")
    assert delete.headers["WWW-Authenticate"].endswith(f'scope="repository:{project}/app:delete"')


def test_bearer_pull_and_push_exactly_as_granted(server, image):
    repo, digest = image
    project = repo.split("/")[0]
    pull = token_for(server.url, f"repository:{repo}:pull", auth=ADMIN)
    assert v2(server, "GET", "", pull).status_code == 200
    r = v2(server, "GET", f"{repo}/manifests/v1", pull, headers={"Accept": OCI_MANIFEST})
    assert r.status_code == 200 and r.headers["Docker-Content-Digest"] == digest
    # the same token: no push, no other repository, no catalog. The admin may do all of
    # it, so a wider token would do: RFC 6750 insufficient_scope, 403 with a challenge
    # naming the scope to ask for (see test_a_refusal_no_token_changes_is_harbors_401)
    up = v2(server, "POST", f"{repo}/blobs/uploads/", pull)
    assert up.status_code == 403 and "insufficient scope" in up.text
    assert up.headers["WWW-Authenticate"].endswith(
        f'scope="repository:{repo}:pull,push",error="insufficient_scope"'
    )
    assert v2(server, "GET", f"{project}/other/tags/list", pull).status_code == 403
    assert v2(server, "GET", f"{repo}x/tags/list", pull).status_code == 403
    assert v2(server, "GET", "_catalog", pull).status_code == 401
    push = token_for(server.url, f"repository:{repo}:pull,push", auth=ADMIN)
    r = v2(server, "POST", f"{repo}/blobs/uploads/", push)
    assert r.status_code == 202


def test_basic_still_works_on_v2(server, image):
    repo, _ = image
    r = requests.get(f"{server.url}/v2/{repo}/tags/list", auth=ADMIN, timeout=30)
    assert r.status_code == 200 and r.json()["tags"] == ["v1"]


def test_forged_and_broken_tokens_are_refused(server, image):
    repo, _ = image
    token = token_for(server.url, f"repository:{repo}:pull", auth=ADMIN)
    head, payload, signature = token.split(".")
    claims = claims_of(token)
    claims["access"][0]["actions"] = ["pull", "push", "delete"]
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    none_head = (
        base64.urlsafe_b64encode(
            json.dumps({"alg": "none", "typ": "JWT", "kid": header_of(token)["kid"]}).encode()
        )
        .rstrip(b"=")
        .decode()
    )
    for bad in (
        f"{head}.{forged_payload}.{signature}",
        f"{none_head}.{payload}.",
        f"{head}.{payload}.{signature[:-4]}AAAA",
        "garbage",
        "",
    ):
        r = v2(server, "GET", f"{repo}/tags/list", headers={"Authorization": f"Bearer {bad}"})
        assert r.status_code == 401, bad
        assert r.headers["WWW-Authenticate"].startswith("Bearer ")


def test_catalog_is_for_system_administrators(server, admin_client, image, new_user):
    """As Harbor: the catalog scope is granted to system administrators only; anyone else
    is refused 401 "unauthorized to list catalog" (see test_v2_listing.py for the
    ``filtered_catalog`` setting)."""
    repo, _ = image
    _, name, password, _ = new_user()
    add_member(admin_client, repo.split("/")[0], name, 1)  # even a project admin
    outsider = token_for(server.url, "registry:catalog:*", auth=(name, password))
    assert claims_of(outsider)["access"] == []
    refused = v2(server, "GET", "_catalog?n=1000", outsider)
    assert refused.status_code == 401, refused.text
    assert refused.json()["errors"][0]["message"] == "unauthorized to list catalog"
    assert refused.headers["WWW-Authenticate"].endswith(
        'scope="registry:catalog:*",error="insufficient_scope"'
    )
    admin = token_for(server.url, "registry:catalog:*", auth=ADMIN)
    assert repo in v2(server, "GET", "_catalog?n=1000", admin).json()["repositories"]
    anon = v2(server, "GET", "_catalog", token_for(server.url, "registry:catalog:*"))
    assert anon.status_code == 401
    assert anon.headers["WWW-Authenticate"].endswith('scope="registry:catalog:*"')
    assert v2(server, "GET", "_catalog?n=0").status_code == 401  # (an empty page too)


def test_token_from_before_project_recreation_is_refused(server, admin_client):
    name = unique("recreate")
    assert (
        admin_client.post(
            "/projects", json={"project_name": name, "metadata": {"public": "false"}}
        ).status_code
        == 201
    )
    old = token_for(server.url, f"repository:{name}/app:pull,push", auth=ADMIN)
    assert v2(server, "POST", f"{name}/app/blobs/uploads/", old).status_code == 202
    r = admin_client.delete(f"/projects/{name}", headers={"X-Is-Resource-Name": "true"})
    assert r.status_code == 200, r.text
    time.sleep(1.1)  # token times are whole seconds
    assert (
        admin_client.post(
            "/projects", json={"project_name": name, "metadata": {"public": "false"}}
        ).status_code
        == 201
    )
    try:
        r = v2(server, "POST", f"{name}/app/blobs/uploads/", old)
        assert r.status_code == 403 and "insufficient scope" in r.text
        assert r.headers["WWW-Authenticate"].endswith('error="insufficient_scope"')
        fresh = token_for(server.url, f"repository:{name}/app:pull,push", auth=ADMIN)
        assert v2(server, "POST", f"{name}/app/blobs/uploads/", fresh).status_code == 202
    finally:
        admin_client.delete(f"/projects/{name}", headers={"X-Is-Resource-Name": "true"})


def test_expiry_is_configurable(server, admin_client):
    r = admin_client.put("/configurations", json={"token_expiration": 5})
    assert r.status_code == 200, r.text
    try:
        body = fetch_token(server.url, "repository:library/a:pull", auth=ADMIN).json()
        assert body["expires_in"] == 300
        claims = claims_of(body["token"])
        assert claims["exp"] - claims["iat"] == 300
    finally:
        admin_client.put("/configurations", json={"token_expiration": 30})


def test_denied_scopes_are_audited(server, admin_client, project, new_user):
    _, name, password, _ = new_user()
    fetch_token(server.url, f"repository:{project}/secret:push", auth=(name, password))
    r = admin_client.get("/audit-logs", params={"q": f"username={name}", "page_size": 100})
    assert r.status_code == 200, r.text
    ops = [(e["operation"], e["resource"]) for e in r.json()]
    assert ("denied", f"{project}/secret:push") in ops


def test_realm_follows_external_url(tmp_path):
    with running_server(
        tmp_path, extra_env={"HARBOR_EXTERNAL_URL": "https://registry.example.com"}
    ) as srv:
        r = requests.get(f"{srv.url}/v2/library/app/tags/list", timeout=30)
        assert r.status_code in (401, 404)
        r = requests.post(f"{srv.url}/v2/library/app/blobs/uploads/", timeout=30)
        assert r.headers["WWW-Authenticate"] == (
            'Bearer realm="https://registry.example.com/service/token",'
            'service="harbor-registry",scope="repository:library/app:pull,push"'
        )
        # the key was generated on first start and survives a restart
        key_file = srv.data_dir / "token" / "private_key.pem"
        assert key_file.is_file() and key_file.stat().st_mode & 0o077 == 0
        kid = header_of(token_for(srv.url, auth=ADMIN))["kid"]
        srv.stop()
        srv.start()
        assert header_of(token_for(srv.url, auth=ADMIN))["kid"] == kid


def test_registry_tokens_are_no_credential_for_the_management_api(server, new_user):
    """A token is scoped to /v2/ access; on /api/v2.0 it must not act as its subject."""
    _, name, password, _ = new_user()
    token = token_for(server.url, "repository:library/x:pull", auth=(name, password))
    api = f"{server.url}/api/v2.0"
    r = requests.post(
        f"{api}/projects",
        json={"project_name": unique("viatoken")},
        headers=bearer(token),
        timeout=30,
    )
    assert r.status_code == 401, r.text
    assert (
        requests.get(f"{api}/users/current", headers=bearer(token), timeout=30).status_code == 401
    )
    assert requests.get(f"{server.url}/v2/", headers=bearer(token), timeout=30).status_code == 200


def _challenge_scopes(response) -> list[str]:
    """The scopes a Bearer challenge names (space-separated, as containerd splits them)."""
    value = response.headers["WWW-Authenticate"]
    assert value.startswith("Bearer "), value
    scope = value.split('scope="', 1)[1].split('"', 1)[0]
    return scope.split(" ")


def test_upload_urls_challenge_for_pull_and_push(server, project):
    """Every upload URL's challenge asks for ``pull,push`` (a status read included), so the
    token a client fetches from it serves the status read; a pull-only token is refused."""
    name = f"{project}/status"
    push = token_for(server.url, f"repository:{name}:pull,push", auth=ADMIN)
    started = v2(server, "POST", f"{name}/blobs/uploads/", push)
    assert started.status_code == 202, started.text
    path = started.headers["Location"].split("/v2/", 1)[1]
    for method in ("GET", "PATCH", "PUT", "DELETE"):
        r = v2(server, method, path)
        assert r.status_code == 401, method
        assert _challenge_scopes(r) == [f"repository:{name}:pull,push"], method
    token = token_for(server.url, *_challenge_scopes(v2(server, "GET", path)), auth=ADMIN)
    status = v2(server, "GET", path, token)
    assert status.status_code == 204, status.text
    pull = token_for(server.url, f"repository:{name}:pull", auth=ADMIN)
    assert v2(server, "GET", path, pull).status_code == 403  # (a wider token would do)


def test_mount_challenge_names_the_source(server, image):
    """The 401 for a cross-repository mount also asks for pull on ``from``: a token fetched
    from the challenge (several scopes, as separate parameters or one space-separated
    value) mounts (201) instead of starting a full upload."""
    source, _ = image
    layer = Pusher(server.url).blob(source, b"mounted layer")
    target = f"{source.split('/')[0]}/mounted"
    query = {"mount": layer, "from": source}
    anon = v2(server, "POST", f"{target}/blobs/uploads/", params=query)
    assert anon.status_code == 401
    scopes = _challenge_scopes(anon)
    assert scopes == [f"repository:{target}:pull,push", f"repository:{source}:pull"]
    for token in (
        token_for(server.url, *scopes, auth=ADMIN),
        token_for(server.url, " ".join(scopes), auth=ADMIN),
    ):
        assert {a["name"] for a in claims_of(token)["access"]} == {target, source}
        r = v2(server, "POST", f"{target}/blobs/uploads/", token, params=query)
        assert r.status_code == 201, r.text
        assert r.headers["Docker-Content-Digest"] == layer
    # a from that is no repository name is not echoed into the challenge
    r = v2(server, "POST", f"{target}/blobs/uploads/", params={"mount": layer, "from": 'x" y'})
    assert _challenge_scopes(r) == [f"repository:{target}:pull,push"]


def test_missing_and_invisible_projects_answer_alike(server, project, new_user):
    """A push or pull into a project that does not exist says so (Harbor: ``project <name>
    not found``), with a token (the service grants nothing there) or Basic; a private
    project the caller cannot see answers exactly the same, so nothing leaks."""
    _, name, password, _ = new_user()
    missing = unique("nowhere")
    answers = {}
    for target in (missing, project):
        repo = f"{target}/app"
        token = token_for(server.url, f"repository:{repo}:pull,push", auth=(name, password))
        assert claims_of(token)["access"] == []
        for how, kwargs in (("token", {"token": token}), ("basic", {"auth": (name, password)})):
            for method, path in (
                ("POST", f"{repo}/blobs/uploads/"),
                ("GET", f"{repo}/manifests/v1"),
            ):
                r = v2(server, method, path, **kwargs)
                body = r.json()["errors"][0]
                answers[(target, how, method)] = (
                    r.status_code,
                    body["code"],
                    body["message"].replace(target, "<p>"),
                )
                assert r.status_code == 404 and body["code"] == "NAME_UNKNOWN", r.text
                assert body["message"] == f"project {target} not found"
        anon = v2(server, "POST", f"{repo}/blobs/uploads/")
        answers[(target, "anonymous", "POST")] = (
            anon.status_code,
            anon.json()["errors"][0]["message"].replace(target, "<p>"),
        )
        assert anon.status_code == 401
    for (target, how, method), answer in answers.items():
        if target == project:
            assert answer == answers[(missing, how, method)], (how, method)


def test_a_refusal_no_token_changes_is_harbors_401(server, admin_client, project, new_user):
    """A token whose subject lacks the action (a guest pushing, a developer deleting) is
    refused as Harbor does: 401 UNAUTHORIZED "unauthorized to access repository: <name>,
    action: <action>" (what docker prints and scripts match on), with the Bearer challenge
    and, as Harbor's, no error="insufficient_scope" (docker would print its own generic
    "denied" text instead of the message)."""
    repo = f"{project}/app"
    Pusher(server.url).image(repo, "v1")
    _, name, password, _ = new_user()
    add_member(admin_client, project, name, 3)  # guest: pull only
    token = token_for(server.url, f"repository:{repo}:pull,push,delete", auth=(name, password))
    assert claims_of(token)["access"][0]["actions"] == ["pull"]
    for method, path, action in (
        ("POST", f"{repo}/blobs/uploads/", "push"),
        ("PUT", f"{repo}/manifests/v2", "push"),
        ("DELETE", f"{repo}/manifests/sha256:{'0' * 64}", "delete"),
    ):
        r = v2(server, method, path, token)
        assert r.status_code == 401, (method, r.text)
        error = r.json()["errors"][0]
        assert error["code"] == "UNAUTHORIZED" and error["message"] == (
            f"unauthorized to access repository: {repo}, action: {action}"
        )
        assert r.headers["WWW-Authenticate"].startswith("Bearer realm=")
        assert "error=" not in r.headers["WWW-Authenticate"]
