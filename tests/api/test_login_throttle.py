"""Brute force: a username failing repeatedly is locked briefly; other users are not slowed;
every refused attempt is audited without the secret."""

from __future__ import annotations

import time

import pytest
import requests

from tests.support.tokens import fetch_token

pytestmark = [pytest.mark.api, pytest.mark.slow]


def status(server, auth) -> int:
    return requests.get(f"{server.url}/api/v2.0/users/current", auth=auth,
                        timeout=30).status_code


def test_repeated_failures_lock_only_that_user(server, admin_client, new_user):
    _, victim, password, _ = new_user()
    _, bystander, bystander_pw, _ = new_user()
    wrong = "Wr0ngGuess-not-the-password"
    for _ in range(6):
        assert status(server, (victim, wrong)) == 401
    # locked: even the right password is refused for a moment, cheaply
    started = time.monotonic()
    assert status(server, (victim, password)) == 401
    assert fetch_token(server.url, auth=(victim, password)).status_code == 401
    assert time.monotonic() - started < 2
    # another user is not slowed
    started = time.monotonic()
    for _ in range(3):
        assert status(server, (bystander, bystander_pw)) == 200
    assert time.monotonic() - started < 3
    # the lock is brief
    deadline = time.monotonic() + 15
    while status(server, (victim, password)) != 200:
        assert time.monotonic() < deadline, "the lock did not expire"
        time.sleep(0.5)
    # refused attempts are in the audit log, without the secret
    r = admin_client.get("/audit-logs", params={"q": f"username={victim}", "page_size": 100})
    assert r.status_code == 200, r.text
    entries = r.json()
    assert sum(e["operation"] == "login_failed" for e in entries) >= 7
    assert wrong not in r.text and password not in r.text


def test_case_variants_of_a_username_share_one_counter(server, new_user):
    """Otherwise each spelling ("Victim", "vIctim", ...) would get its own free attempts."""
    _, victim, password, _ = new_user()
    wrong = "Wr0ngGuess-not-the-password"
    variants = [victim.upper(), victim.capitalize(), victim.swapcase().capitalize(),
                victim[:-1] + victim[-1].upper(), victim.title(), victim.upper()]
    for spelling in variants:
        assert status(server, (spelling, wrong)) == 401
    assert status(server, (victim, password)) == 401  # locked: the right password waits
    deadline = time.monotonic() + 15
    while status(server, (victim, password)) != 200:
        assert time.monotonic() < deadline, "the lock did not expire"
        time.sleep(0.5)
