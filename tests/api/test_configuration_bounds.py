"""Integer configuration values are bounded to what the server can use (a signed 64-bit
number, the database's BIGINT): a value past it is a 400 when it is set, not a 500 later
for every user whose request reads it (a new project's quota, the audit purge's cutoff)."""

from __future__ import annotations

import pytest

from tests.conftest import unique

pytestmark = pytest.mark.api

HUGE = [
    {"storage_per_project": 2**63},
    {"audit_log_retention_hours": 10**20},
    {"ldap_timeout": 2**63},
    {"token_expiration": 2**64},
]


@pytest.mark.parametrize("body", HUGE, ids=lambda b: next(iter(b)))
def test_an_integer_past_int64_is_refused(admin_client, new_user, body):
    before = admin_client.get("/configurations").json()
    key = next(iter(body))
    r = admin_client.put("/configurations", json=body)
    try:
        assert r.status_code == 400, r.text
        assert admin_client.get("/configurations").json()[key] == before[key]
        _, _, _, user = new_user()
        name = unique("cfg")
        r = user.post("/projects", json={"project_name": name})
        assert r.status_code == 201, r.text
        admin_client.delete(f"/projects/{name}", headers={"X-Is-Resource-Name": "true"})
    finally:
        admin_client.put("/configurations", json={key: before[key]["value"]})
