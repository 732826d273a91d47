"""User names: NFKC-normalised on the way in and at login; no invisible characters."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.support.clients import ApiClient

pytestmark = pytest.mark.api


def body(username: str) -> dict:
    tag = uuid.uuid4().hex[:8]
    return {
        "username": username,
        "email": f"u-{tag}@example.com",
        "realname": f"u {tag}",
        "password": "Passw0rd-names",
    }


@pytest.mark.parametrize(
    "invisible",
    [
        "\u200b",
        "\u200d",
        "\u202e",
        "\u00ad",
        "\ufeff",
        "\u2060",
        "\x07",
        "\x7f",
        "\u3000",
        "\ue000",
    ],
)
def test_names_with_invisible_characters_are_refused(admin_client, invisible):
    r = admin_client.post("/users", json=body(f"admin{invisible}"))
    assert r.status_code == 400, r.text
    message = r.json()["errors"][0]["message"]
    assert "invisible" in message and f"U+{ord(invisible):04X}" in message


def test_compatibility_spellings_are_the_same_name(admin_client):
    """Fullwidth ``ａｄｍｉｎ`` is ``admin`` (taken); a ligature is its letters."""
    r = admin_client.post("/users", json=body("ａｄｍｉｎ"))
    assert r.status_code == 409, r.text
    tag = uuid.uuid4().hex[:6]
    r = admin_client.post("/users", json=body(f"\ufb01le-{tag}"))  # "ﬁle-…"
    assert r.status_code == 201, r.text
    location = r.headers["Location"]
    try:
        assert admin_client.get(location).json()["username"] == f"file-{tag}"
        r = admin_client.post("/users", json=body(f"file-{tag}"))
        assert r.status_code == 409, r.text
    finally:
        admin_client.delete(location)


def test_logins_look_names_up_normalised(server, admin_client):
    tag = uuid.uuid4().hex[:6]
    r = admin_client.post("/users", json=body(f"caf\u00e9-{tag}"))  # precomposed é
    assert r.status_code == 201, r.text
    location = r.headers["Location"]
    try:
        decomposed = f"cafe\u0301-{tag}".encode()  # e + combining acute accent
        r = requests.get(
            f"{server.url}/api/v2.0/users/current", auth=(decomposed, b"Passw0rd-names"), timeout=30
        )
        assert r.status_code == 200, r.text
        assert r.json()["username"] == f"caf\u00e9-{tag}"
    finally:
        admin_client.delete(location)


def test_self_registration_refuses_invisible_characters(server, admin_client):
    assert admin_client.put("/configurations", json={"self_registration": True}).status_code == 200
    try:
        with ApiClient(server.url) as anonymous:
            r = anonymous.post("/users", json=body(f"bob\u200b{uuid.uuid4().hex[:6]}"))
        assert r.status_code == 400 and "invisible" in r.text, r.text
    finally:
        admin_client.put("/configurations", json={"self_registration": False})
