"""The server log says who got which token and which account a refused login tried, from
where and why, and never a secret."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import requests

from tests.support.servers import ADMIN_PASSWORD, running_server
from tests.support.tokens import fetch_token

pytestmark = pytest.mark.api


@pytest.fixture(scope="module")
def logged_server(tmp_path_factory):
    with running_server(
        tmp_path_factory.mktemp("auth-logs"), extra_env={"HARBOR_LOG_LEVEL": "info"}
    ) as srv:
        yield srv


def log_entries(server, event: str, expected: int = 1, timeout: float = 10) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        entries = []
        for line in server.log_path.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and entry.get("event") == event:
                entries.append(entry)
        if len(entries) >= expected or time.monotonic() > deadline:
            return entries
        time.sleep(0.1)


def test_token_grants_are_logged_with_user_service_and_scopes(logged_server):
    repo = f"library/logged-{uuid.uuid4().hex[:6]}"
    r = fetch_token(
        logged_server.url,
        f"repository:{repo}:pull,push",
        "registry:catalog:*",
        auth=("admin", ADMIN_PASSWORD),
    )
    assert r.status_code == 200, r.text
    rid = r.headers["X-Request-Id"]
    entries = [e for e in log_entries(logged_server, "token_granted") if e.get("request_id") == rid]
    assert len(entries) == 1, entries
    entry = entries[0]
    assert entry["user"] == "admin" and entry["service"] == "harbor-registry"
    assert entry["scopes"] == [f"repository:{repo}:pull,push", "registry:catalog:*"]
    assert entry["level"] == "info"
    assert ADMIN_PASSWORD not in logged_server.log_path.read_text()
    assert r.json()["token"] not in logged_server.log_path.read_text()


def test_failed_logins_are_logged_with_name_address_and_reason(logged_server):
    name, secret = f"nobody-{uuid.uuid4().hex[:6]}", "S3cret-never-logged"
    r = requests.get(f"{logged_server.url}/api/v2.0/users/current", auth=(name, secret), timeout=30)
    assert r.status_code == 401
    r2 = requests.post(
        f"{logged_server.url}/c/login", data={"principal": "admin", "password": secret}, timeout=30
    )
    assert r2.status_code == 401
    mine = {e["request_id"]: e for e in log_entries(logged_server, "login_failed", 2)}
    first, second = mine[r.headers["X-Request-Id"]], mine[r2.headers["X-Request-Id"]]
    assert first["attempted_user"] == name and first["remote"] == "127.0.0.1"
    assert first["reason"] == "invalid credentials" and first["level"] == "warning"
    assert second["attempted_user"] == "admin" and second["reason"] == "invalid credentials"
    assert secret not in logged_server.log_path.read_text()
