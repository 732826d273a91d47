"""The /v2 edge's one authorisation table covers every route it serves, and says what the
distribution spec's method rule says."""

from __future__ import annotations

from harbor_api.v2 import access
from harbor_api.v2.app import _HANDLERS


def test_every_served_route_has_its_actions_in_the_table():
    assert set(_HANDLERS) <= set(access.ROUTE_ACTIONS)


def test_actions_follow_the_method_and_uploads_need_push():
    for (endpoint, method), actions in access.ROUTE_ACTIONS.items():
        if endpoint.startswith("upload"):
            assert actions == access.PUSH, (endpoint, method)
        elif method in ("GET", "HEAD"):
            assert actions == access.PULL, (endpoint, method)
        elif method in ("POST", "PUT", "PATCH"):
            assert actions == access.PUSH, (endpoint, method)
        else:
            assert method == "DELETE" and actions == access.DELETE, (endpoint, method)


def test_the_challenge_and_the_check_read_the_same_table():
    assert access.needed_actions("upload", "GET") == access.PUSH
    assert access.needed_actions("manifest", "HEAD") == access.PULL
    assert access.needed_actions("manifest", "DELETE") == access.DELETE
    assert access.needed_actions("blob", "POST") == access.PUSH  # a 405's challenge
    assert access.MOUNT_SOURCE == access.PULL
