"""Schemathesis over every operation of openapi/swagger.yaml, as admin and as an ordinary user.

Checks: no server errors, responses (status codes, bodies) as the spec declares. Bounded and
derandomised so that a run is deterministic. Calls that would break the shared server for
other tests (deleting the bootstrap ``library`` project, switching configuration) are either
skipped or undone right after.
"""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.clients import ApiClient
from tests.support.servers import ADMIN_PASSWORD

pytestmark = [pytest.mark.api, pytest.mark.slow]

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi" / "swagger.yaml"
SCHEMA = schemathesis.openapi.from_path(str(SPEC_PATH))
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
PROTECTED_PROJECTS = {"1", "library"}
MAX_EXAMPLES = 12


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@pytest.fixture(scope="module")
def admin_api(sqlite_server):
    with ApiClient(sqlite_server.url, ("admin", ADMIN_PASSWORD)) as client:
        yield client


@pytest.fixture(params=["admin", "user"])
def identity(request, admin_api):
    """(Authorization header value, cleanup) for the caller under test."""
    if request.param == "admin":
        yield _basic("admin", ADMIN_PASSWORD)
        return
    name = f"fuzz-{uuid.uuid4().hex[:8]}"
    password = "Fuzz3r!" + uuid.uuid4().hex[:6]
    r = admin_api.post("/users", json={"username": name, "email": f"{name}@example.com",
                                       "realname": "fuzzer", "password": password})
    assert r.status_code == 201, r.text
    yield _basic(name, password)
    admin_api.delete(r.headers["Location"].removeprefix("/api/v2.0"))


def _touches_protected(case) -> bool:
    """A write aimed at the bootstrap project, which other tests rely on."""
    if case.method.upper() in {"GET", "HEAD"}:
        return False
    value = str((case.path_parameters or {}).get("project_name_or_id", ""))
    return value in PROTECTED_PROJECTS or value.lower() == "library"


@SCHEMA.parametrize()
@settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_spec(case, sqlite_server, identity, admin_api):
    if _touches_protected(case):
        return
    restore = None
    if case.operation.definition.raw.get("operationId") == "updateConfigurations":
        restore = {k: v["value"] for k, v in admin_api.get("/configurations").json().items()}
    session = requests.Session()
    try:
        case.call_and_validate(base_url=f"{sqlite_server.url}/api/v2.0", session=session,
                               headers={"Authorization": identity}, checks=CHECKS,
                               timeout=30)
    finally:
        session.close()
        if restore is not None:
            assert admin_api.put("/configurations", json=restore).status_code == 200
        if case.operation.definition.raw.get("operationId") == "actionPendingJobs":
            admin_api.put("/jobservice/queues/all", json={"action": "resume"})  # undo a pause
