"""Brute force: a login name failing repeatedly is locked, for every worker process (the
counters live in the database, or in Redis when configured); other users are not slowed;
every refused attempt is audited without the secret; a password reset lifts the lock."""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from tests.conftest import unique
from tests.support.clients import ApiClient
from tests.support.servers import ADMIN_PASSWORD, postgres_database, running_server
from tests.support.tokens import fetch_token, sql

pytestmark = [pytest.mark.api, pytest.mark.slow]

LOCK_SECONDS = 6  # short locks for the test (the default is 60 s, doubling up to 30 min)
REDIS_URL = "redis://127.0.0.1:6379/0"
WRONG = "Wr0ngGuess-not-the-password"


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "redis"])
def throttled(request, tmp_path_factory):
    """A server with two worker processes and short locks; (server, store)."""
    tmp = tmp_path_factory.mktemp(f"throttle-{request.param}")
    env = {
        "HARBOR_LOGIN_LOCK_SECONDS": str(LOCK_SECONDS),
        "HARBOR_LOGIN_LOCK_MAX_SECONDS": str(2 * LOCK_SECONDS),
    }
    args = ["--workers", "2"]
    if request.param == "postgresql":
        with postgres_database() as url, running_server(tmp, url, env, args) as srv:
            yield srv, "database"
    else:
        if request.param == "redis":
            env["HARBOR_REDIS_URL"] = REDIS_URL
        with running_server(tmp, extra_env=env, extra_args=args) as srv:
            yield srv, request.param.replace("sqlite", "database")


@pytest.fixture
def admin(throttled):
    with ApiClient(throttled[0].url, ("admin", ADMIN_PASSWORD)) as client:
        yield client


@pytest.fixture
def account(admin):
    """A fresh local user: (id, name, password)."""
    name, password = unique("victim"), "Passw0rd!" + uuid.uuid4().hex[:4]
    r = admin.post(
        "/users",
        json={
            "username": name,
            "email": f"{name}@example.com",
            "realname": name,
            "password": password,
        },
    )
    assert r.status_code == 201, r.text
    user_id = int(r.headers["Location"].rsplit("/", 1)[1])
    yield user_id, name, password
    admin.delete(f"/users/{user_id}")


def attempt(server, auth) -> requests.Response:
    """One login on a fresh connection (no session: each request connects anew, so the
    two workers share the attempts)."""
    return requests.get(
        f"{server.url}/api/v2.0/users/current",
        auth=auth,
        timeout=30,
        headers={"Connection": "close"},
    )


def wait_until_accepted(server, auth, limit: float, probe=None) -> float:
    started = time.monotonic()
    probe = probe or (lambda: attempt(server, auth))
    while probe().status_code != 200:
        assert time.monotonic() - started < limit, "the lock did not end"
        time.sleep(0.25)
    return time.monotonic() - started


def stored_failures(server, store: str, name: str) -> int:
    if store == "redis":
        import redis

        value = redis.Redis.from_url(REDIS_URL).hget(f"harbor:login-failures:{name}", "failures")
        return int(value or 0)
    rows = sql(server, "SELECT failures FROM login_failures WHERE username = :n", n=name)
    return rows[0][0] if rows else 0


def test_the_lock_holds_on_every_worker_then_ends(throttled, account):
    server, store = throttled
    _, name, password = account
    for _ in range(40):
        assert attempt(server, (name, WRONG)).status_code == 401
    locked_at = time.monotonic()  # at the latest: the 5th failure locked the name earlier
    refusals = [attempt(server, (name, password)) for _ in range(10)]
    assert [r.status_code for r in refusals] == [401] * 10
    assert stored_failures(server, store, name) == 5  # attempts while locked are not counted
    assert all("too many failed logins" in r.json()["errors"][0]["message"] for r in refusals)
    # every way in is closed while locked: /v2, the token service, the portal login
    assert requests.get(f"{server.url}/v2/", auth=(name, password), timeout=30).status_code == 401
    assert fetch_token(server.url, auth=(name, password)).status_code == 401
    r = requests.post(
        f"{server.url}/c/login", data={"principal": name, "password": password}, timeout=30
    )
    assert r.status_code == 401 and "too many failed logins" in r.text
    assert time.monotonic() - locked_at < LOCK_SECONDS, "too slow to observe the lock"
    waited = wait_until_accepted(server, (name, password), LOCK_SECONDS + 15)
    assert waited > 0
    assert stored_failures(server, store, name) == 0  # the success reset the count


def test_the_fifth_failure_locks_the_name_on_every_worker(throttled, account):
    """Exactly the threshold, spread over both workers by fresh connections: a per-process
    count would leave at least one worker unlocked (or none locked at all)."""
    server, store = throttled
    _, name, password = account
    for _ in range(5):
        assert attempt(server, (name, WRONG)).status_code == 401
    assert [attempt(server, (name, password)).status_code for _ in range(10)] == [401] * 10
    assert stored_failures(server, store, name) == 5


def test_the_lock_is_per_name_and_audited_without_secrets(throttled, admin, account):
    server, _ = throttled
    _, victim, password = account
    bystander = unique("bystander")
    r = admin.post(
        "/users",
        json={
            "username": bystander,
            "email": f"{bystander}@example.com",
            "realname": bystander,
            "password": password,
        },
    )
    assert r.status_code == 201, r.text
    try:
        for _ in range(6):
            assert attempt(server, (victim, WRONG)).status_code == 401
        started = time.monotonic()
        assert attempt(server, (victim, password)).status_code == 401  # refused cheaply
        assert time.monotonic() - started < 2
        started = time.monotonic()
        for _ in range(3):  # another user is not slowed
            assert attempt(server, (bystander, password)).status_code == 200
        assert time.monotonic() - started < 3
    finally:
        admin.delete(r.headers["Location"].replace(f"{server.url}/api/v2.0", ""))
    r = admin.get("/audit-logs", params={"q": f"username={victim}", "page_size": 100})
    assert r.status_code == 200, r.text
    assert sum(e["operation"] == "login_failed" for e in r.json()) >= 7
    assert WRONG not in r.text and password not in r.text


def test_spelling_variants_share_one_counter(throttled, account):
    """Otherwise each spelling ("Victim", "vIctim", "ｖｉｃｔｉｍ"...) would get its own
    free attempts."""
    server, _ = throttled
    _, victim, password = account
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in victim)
    for spelling in [
        victim.upper(),
        victim.capitalize(),
        fullwidth,
        victim[:-1] + victim[-1].upper(),
        victim.title(),
    ]:
        assert attempt(server, (spelling.encode(), WRONG.encode())).status_code == 401
    assert attempt(server, (victim, password)).status_code == 401  # locked
    wait_until_accepted(server, (victim, password), LOCK_SECONDS + 15)


def test_a_password_reset_lifts_the_lock(throttled, admin, account):
    """The operator's way out for a locked-out user (and, with another administrator or the
    ``reset-password`` command, for a locked-out admin)."""
    server, _ = throttled
    user_id, name, _ = account
    for _ in range(5):
        assert attempt(server, (name, WRONG)).status_code == 401
    r = admin.put(f"/users/{user_id}/password", json={"new_password": "Fresh-Passw0rd"})
    assert r.status_code == 200, r.text
    assert attempt(server, (name, "Fresh-Passw0rd")).status_code == 200


def test_robots_are_throttled_too(throttled, admin):
    server, _ = throttled
    body = {
        "name": unique("bot"),
        "level": "system",
        "duration": -1,
        "permissions": [
            {
                "kind": "project",
                "namespace": "library",
                "access": [{"resource": "repository", "action": "pull", "effect": "allow"}],
            }
        ],
    }
    r = admin.post("/robots", json=body)
    assert r.status_code == 201, r.text
    robot_id, creds = r.json()["id"], (r.json()["name"], r.json()["secret"])
    try:
        for _ in range(5):
            assert fetch_token(server.url, auth=(creds[0], WRONG)).status_code == 401
        r = fetch_token(server.url, auth=creds)
        assert r.status_code == 401 and "too many failed logins" in r.text
        wait_until_accepted(
            server, creds, LOCK_SECONDS + 15, probe=lambda: fetch_token(server.url, auth=creds)
        )
    finally:
        admin.delete(f"/robots/{robot_id}")
