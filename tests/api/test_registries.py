"""Registry endpoints (``/registries``) and the adapter listings: Harbor's shapes, system
admins only, secrets stored encrypted and never shown, ping against a live server."""

from __future__ import annotations

import pytest

from tests.conftest import unique
from tests.support.servers import ADMIN_PASSWORD

pytestmark = pytest.mark.api


def _create(client, **fields) -> int:
    body = {
        "name": unique("reg"),
        "type": "docker-registry",
        "url": "https://reg.example.com",
        **fields,
    }
    r = client.post("/registries", json=body)
    assert r.status_code == 201, r.text
    assert r.headers["Location"].startswith("/api/v2.0/registries/")
    return int(r.headers["Location"].rsplit("/", 1)[1])


def test_registry_lifecycle(admin_client):
    name = unique("reg")
    registry_id = _create(
        admin_client,
        name=name,
        type="harbor",
        url="harbor.example.com/",
        description="the other one",
        insecure=True,
        credential={"type": "basic", "access_key": "robot$sync", "access_secret": "s3cret-value"},
    )
    got = admin_client.get(f"/registries/{registry_id}").json()
    assert got["id"] == registry_id and got["name"] == name and got["type"] == "harbor"
    assert got["url"] == "http://harbor.example.com"  # Harbor's default scheme, no slash
    assert got["insecure"] is True and got["description"] == "the other one"
    assert got["status"] == "unknown"
    assert got["credential"] == {
        "type": "basic",
        "access_key": "robot$sync",
        "access_secret": "*****",
    }
    assert got["creation_time"].endswith("Z") and got["update_time"].endswith("Z")
    assert (
        admin_client.post(
            "/registries", json={"name": name, "type": "harbor", "url": "https://x.example"}
        ).status_code
        == 409
    )
    r = admin_client.put(
        f"/registries/{registry_id}",
        json={"description": "changed", "insecure": False, "access_secret": "*****"},
    )
    assert r.status_code == 200, r.text
    got = admin_client.get(f"/registries/{registry_id}").json()
    assert got["description"] == "changed" and got["insecure"] is False
    assert got["credential"]["access_secret"] == "*****" and got["name"] == name
    assert admin_client.delete(f"/registries/{registry_id}").status_code == 200
    assert admin_client.get(f"/registries/{registry_id}").status_code == 404
    assert admin_client.delete(f"/registries/{registry_id}").status_code == 404


def test_registry_without_credential_shows_none(admin_client):
    registry_id = _create(admin_client)
    got = admin_client.get(f"/registries/{registry_id}").json()
    assert "credential" not in got
    admin_client.delete(f"/registries/{registry_id}")


def test_list_with_q_name_and_paging(admin_client):
    prefix = unique("lst")
    ids = [
        _create(admin_client, name=f"{prefix}-{i}", type="harbor" if i == 1 else "docker-registry")
        for i in range(3)
    ]
    r = admin_client.get(
        "/registries", params={"q": f"name=~{prefix}", "page_size": 2, "sort": "name"}
    )
    assert r.status_code == 200 and r.headers["X-Total-Count"] == "3"
    assert [x["name"] for x in r.json()] == [f"{prefix}-0", f"{prefix}-1"]
    assert 'rel="next"' in r.headers["Link"]
    page2 = admin_client.get(
        "/registries", params={"q": f"name=~{prefix}", "page": 2, "page_size": 2, "sort": "name"}
    )
    assert [x["name"] for x in page2.json()] == [f"{prefix}-2"]
    exact = admin_client.get("/registries", params={"q": f"name={prefix}-1"}).json()
    assert [x["id"] for x in exact] == [ids[1]]
    typed = admin_client.get("/registries", params={"q": f"name=~{prefix},type=harbor"})
    assert [x["id"] for x in typed.json()] == [ids[1]]
    legacy = admin_client.get("/registries", params={"name": prefix}).json()
    assert sorted(x["id"] for x in legacy) == sorted(ids)
    assert admin_client.get("/registries", params={"q": "color=red"}).status_code == 400
    assert admin_client.get("/registries", params={"sort": "secret"}).status_code == 400
    for registry_id in ids:
        admin_client.delete(f"/registries/{registry_id}")


@pytest.mark.parametrize(
    "body, words",
    [
        ({"type": "harbor", "url": "https://a.example"}, "name"),
        ({"name": "n", "type": "quay", "url": "https://a.example"}, "unsupported registry type"),
        ({"name": "n", "url": "https://a.example"}, "unsupported registry type"),
        ({"name": "n", "type": "harbor"}, "url is required"),
        ({"name": "n", "type": "harbor", "url": "ftp://a.example"}, "invalid url"),
        ({"name": "n", "type": "harbor", "url": "https://u:p@a.example"}, "invalid url"),
        ({"name": "n", "type": "harbor", "url": "https://a.example:port"}, "invalid url"),
        ({"name": "x" * 65, "type": "harbor", "url": "https://a.example"}, "name"),
        (
            {
                "name": "n",
                "type": "harbor",
                "url": "https://a.example",
                "credential": {"type": "oauth2", "access_key": "k", "access_secret": "s"},
            },
            "credential type",
        ),
    ],
)
def test_create_validation(admin_client, body, words):
    r = admin_client.post("/registries", json=body)
    assert r.status_code == 400, r.text
    error = r.json()["errors"][0]
    assert error["code"] == "BAD_REQUEST" and words in error["message"]


def test_update_validation_and_missing(admin_client):
    first, second = _create(admin_client), _create(admin_client)
    name = admin_client.get(f"/registries/{first}").json()["name"]
    assert admin_client.put(f"/registries/{second}", json={"name": name}).status_code == 409
    assert admin_client.put(f"/registries/{second}", json={"url": "nope://x"}).status_code == 400
    assert admin_client.put("/registries/999999", json={}).status_code == 404
    assert admin_client.get("/registries/999999/info").status_code == 404
    assert admin_client.post("/registries/ping", json={"id": 999999}).status_code == 404
    r = admin_client.post("/registries/ping", json={"url": "https://a.example"})
    assert r.status_code == 400 and "type or url cannot be empty" in r.text
    for registry_id in (first, second):
        admin_client.delete(f"/registries/{registry_id}")


def test_secret_never_leaves_the_server(admin_client, server):
    secret = "Never-Shown-" + unique("s")
    name = unique("sec")
    registry_id = _create(
        admin_client,
        name=name,
        credential={"type": "basic", "access_key": "someone", "access_secret": secret},
    )
    admin_client.put(f"/registries/{registry_id}", json={"access_secret": secret + "2"})
    admin_client.post("/registries/ping", json={"id": registry_id})
    bodies = [
        admin_client.get(f"/registries/{registry_id}").text,
        admin_client.get("/registries", params={"q": f"name={name}"}).text,
        admin_client.get("/audit-logs", params={"page_size": 100}).text,
    ]
    assert all(secret not in body for body in bodies)
    logs = admin_client.get("/audit-logs", params={"q": f"resource={name}"}).json()
    assert sorted(e["operation"] for e in logs) == ["create", "update"]
    assert all(e["resource_type"] == "registry" for e in logs)
    assert secret not in server.log_path.read_text(errors="replace")
    admin_client.delete(f"/registries/{registry_id}")


def test_only_system_admins(admin_client, anon_client, new_user):
    registry_id = _create(admin_client)
    _, _, _, user = new_user()
    calls = [
        ("GET", "/registries", None),
        ("POST", "/registries", {"name": "x", "type": "harbor", "url": "a.b"}),
        ("GET", f"/registries/{registry_id}", None),
        ("PUT", f"/registries/{registry_id}", {"description": "x"}),
        ("DELETE", f"/registries/{registry_id}", None),
        ("GET", f"/registries/{registry_id}/info", None),
        ("POST", "/registries/ping", {"id": registry_id}),
        ("GET", "/replication/adapters", None),
        ("GET", "/replication/adapterinfos", None),
    ]
    for method, path, body in calls:
        assert anon_client.request(method, path, json=body).status_code == 401, path
        r = user.request(method, path, json=body)
        assert r.status_code == 403, (path, r.text)
        assert r.json()["errors"][0]["code"] == "FORBIDDEN"
    assert admin_client.get(f"/registries/{registry_id}").status_code == 200
    admin_client.delete(f"/registries/{registry_id}")


def test_adapters_and_infos(admin_client):
    assert admin_client.get("/replication/adapters").json() == ["docker-registry", "harbor"]
    infos = admin_client.get("/replication/adapterinfos").json()
    assert set(infos) == {"docker-registry", "harbor"}
    assert infos["harbor"]["credential_pattern"]["access_key_type"] == "AccessKeyTypeStandard"
    registry_id = _create(admin_client, type="harbor")
    info = admin_client.get(f"/registries/{registry_id}/info").json()
    assert info["type"] == "harbor"
    assert {f["type"] for f in info["supported_resource_filters"]} == {
        "name",
        "tag",
        "label",
        "resource",
    }
    assert info["supported_triggers"] == ["manual", "scheduled", "event_based"]
    resource = [f for f in info["supported_resource_filters"] if f["type"] == "resource"][0]
    assert resource == {"type": "resource", "style": "radio", "values": ["image", "artifact"]}
    admin_client.delete(f"/registries/{registry_id}")


def test_ping_this_server_as_harbor_and_as_docker_registry(admin_client, server):
    for registry_type in ("harbor", "docker-registry"):
        r = admin_client.post(
            "/registries/ping",
            json={
                "type": registry_type,
                "url": server.url,
                "credential_type": "basic",
                "access_key": "admin",
                "access_secret": ADMIN_PASSWORD,
            },
        )
        assert r.status_code == 200, (registry_type, r.text)
    registry_id = _create(
        admin_client,
        type="harbor",
        url=server.url,
        credential={"type": "basic", "access_key": "admin", "access_secret": ADMIN_PASSWORD},
    )
    assert admin_client.post("/registries/ping", json={"id": registry_id}).status_code == 200
    assert admin_client.get(f"/registries/{registry_id}").json()["status"] == "healthy"
    admin_client.delete(f"/registries/{registry_id}")


def test_ping_with_wrong_credentials_says_why(admin_client, server):
    for registry_type in ("harbor", "docker-registry"):
        r = admin_client.post(
            "/registries/ping",
            json={
                "type": registry_type,
                "url": server.url,
                "access_key": "admin",
                "access_secret": "wrong-password",
            },
        )
        assert r.status_code == 400, r.text
        message = r.json()["errors"][0]["message"]
        assert message.startswith("the registry is unhealthy: ")
        assert "refused the credential" in message, message
        assert "wrong-password" not in r.text
    registry_id = _create(
        admin_client,
        type="harbor",
        url=server.url,
        credential={"access_key": "admin", "access_secret": "wrong-password"},
    )
    assert admin_client.post("/registries/ping", json={"id": registry_id}).status_code == 400
    assert admin_client.get(f"/registries/{registry_id}").json()["status"] == "unhealthy"
    # the stored secret, overridden for this ping only
    assert (
        admin_client.post(
            "/registries/ping", json={"id": registry_id, "access_secret": ADMIN_PASSWORD}
        ).status_code
        == 200
    )
    admin_client.delete(f"/registries/{registry_id}")


def test_ping_unreachable_endpoint(admin_client):
    from tests.support.servers import free_port

    r = admin_client.post(
        "/registries/ping",
        json={"type": "docker-registry", "url": f"http://127.0.0.1:{free_port()}"},
    )
    assert r.status_code == 400
    assert "cannot connect to 127.0.0.1" in r.json()["errors"][0]["message"]


def test_ping_with_a_robot_account(admin_client, server, project):
    """Robot accounts (Harbor's usual replication credential) have no user to read; the
    ping checks them through the registry instead, and still catches a wrong secret."""
    r = admin_client.post(
        "/robots",
        json={
            "name": unique("sync"),
            "level": "project",
            "duration": -1,
            "permissions": [
                {
                    "kind": "project",
                    "namespace": project,
                    "access": [{"resource": "repository", "action": "pull"}],
                }
            ],
        },
    )
    assert r.status_code == 201, r.text
    robot = r.json()
    body = {"type": "harbor", "url": server.url, "access_key": robot["name"]}
    assert (
        admin_client.post(
            "/registries/ping", json={**body, "access_secret": robot["secret"]}
        ).status_code
        == 200
    )
    r = admin_client.post("/registries/ping", json={**body, "access_secret": "wrong"})
    assert r.status_code == 400 and "unhealthy" in r.text
    admin_client.delete(f"/robots/{robot['id']}")


def test_ping_sends_a_stored_secret_only_to_the_stored_url(admin_client, server):
    """Pinging a stored registry at another URL must bring its own secret: the stored one
    is never sent elsewhere (a listener on the other URL sees no request)."""
    import http.server
    import threading

    seen: list[str] = []

    class Listener(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the stdlib's name)
            seen.append(self.headers.get("Authorization") or "")
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Listener)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    registry_id = _create(
        admin_client,
        type="harbor",
        url=server.url,
        credential={"access_key": "admin", "access_secret": ADMIN_PASSWORD},
    )
    try:
        elsewhere = f"http://127.0.0.1:{other.server_address[1]}"
        r = admin_client.post("/registries/ping", json={"id": registry_id, "url": elsewhere})
        assert r.status_code == 400, r.text
        assert "give the access_secret again" in r.json()["errors"][0]["message"]
        assert seen == []
        # the stored URL (spelled with a trailing slash) still gets the stored secret
        assert (
            admin_client.post(
                "/registries/ping", json={"id": registry_id, "url": server.url + "/"}
            ).status_code
            == 200
        )
        # a secret given again may go to the other URL
        r = admin_client.post(
            "/registries/ping",
            json={"id": registry_id, "url": elsewhere, "access_secret": "another-one"},
        )
        assert r.status_code == 400 and "unhealthy" in r.text
        assert seen
    finally:
        other.shutdown()
        admin_client.delete(f"/registries/{registry_id}")
