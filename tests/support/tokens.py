"""Helpers for token-service tests: fetch a token, decode it, reach into the database."""

from __future__ import annotations

import base64
import json

import requests
import sqlalchemy as sa


def fetch_token(
    base_url: str,
    *scopes: str,
    auth: tuple[str, str] | None = None,
    service: str = "harbor-registry",
) -> requests.Response:
    params = [("service", service)] + [("scope", s) for s in scopes]
    return requests.get(
        f"{base_url}/service/token", params=params, auth=auth, timeout=30, verify=False
    )


def token_for(base_url: str, *scopes: str, auth: tuple[str, str] | None = None) -> str:
    r = fetch_token(base_url, *scopes, auth=auth)
    assert r.status_code == 200, r.text
    return r.json()["token"]


def claims_of(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def header_of(token: str) -> dict:
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def server_engine(server) -> sa.Engine:
    """The test server's own database (SQLite file in its data dir, or PostgreSQL)."""
    url = server.database_url or f"sqlite:///{server.data_dir / 'harbor.db'}"
    return sa.create_engine(url)


def sql(server, statement: str, **params):
    engine = server_engine(server)
    try:
        with engine.begin() as conn:
            result = conn.execute(sa.text(statement), params)
            return result.fetchall() if result.returns_rows else None
    finally:
        engine.dispose()
