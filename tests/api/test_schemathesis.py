"""Schemathesis over every operation of openapi/swagger.yaml, on SQLite and PostgreSQL, as
admin and as an ordinary user, with every check schemathesis has (server errors, response
conformance, ``positive_data_acceptance``: a spec-valid request is not refused with 400,
``negative_data_rejection``: a spec-invalid one is, ``unsupported_method``: 405 + ``Allow``,
...) over the examples, coverage and fuzzing phases, plus the stateful phase.

Any finding fails the test. Deterministic (derandomised, no example database) and bounded:
``HARBOR_FUZZ_EXAMPLES`` (default 3) examples per operation and phase; the deeper manual run
is ``HARBOR_FUZZ_EXAMPLES=50 python -m pytest tests/api/test_schemathesis.py``.
Calls that would break the shared server for other tests (writes to the bootstrap
``library`` project, configuration changes) are redirected or undone right after.
"""

from __future__ import annotations

import base64
import os
import uuid
from pathlib import Path
from urllib.parse import unquote

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test
from schemathesis.config import SchemathesisConfig

from tests.support.clients import ApiClient
from tests.support.servers import ADMIN_PASSWORD, postgres_database, running_server

pytestmark = [pytest.mark.api, pytest.mark.slow]

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi" / "swagger.yaml"
MAX_EXAMPLES = int(os.environ.get("HARBOR_FUZZ_EXAMPLES", "3"))
STATEFUL_EXAMPLES = max(2, MAX_EXAMPLES)
PROTECTED_PROJECTS = {"1", "library"}
MISSING_PROJECT = "fuzz-protected-project-missing"
# Operations with a rule no schema keyword states (it depends on other fields, on the
# caller, on stored state or on the LDAP server): their description says it ("Besides the
# schema: ..."), and a spec-valid request they refuse with 400 is not a finding.
RULES_IN_DESCRIPTION = [
    "createUser",
    "updateUserPassword",
    "createProject",
    "updateProject",
    "addProjectMetadatas",
    "updateProjectMetadata",
    "createProjectMember",
    "updateConfigurations",
    "createRobot",
    "updateRobot",
    "createUserGroup",
    "updateUserGroup",
    "searchLdapUser",
    "importLdapUser",
    "searchLdapGroup",
    "CreateLabel",
    "UpdateLabel",
    "addLabel",
    "CopyArtifact",
    "ListLabels",
    "createRegistry",
    "pingRegistry",
    "stopRunningJob",
    "actionPendingJobs",
    "updateQuota",
    "putSystemCVEAllowlist",
    "createPurgeSchedule",
    "updatePurgeSchedule",
    "createGCSchedule",
    "updateGCSchedule",
    "createReplicationPolicy",
    "startReplication",
    "CreateImmuRule",
    "UpdateImmuRule",
    "listRegistries",
    "listReplicationPolicies",
    "listReplicationExecutions",
    "listReplicationTasks",
    "ListWebhookPoliciesOfProject",
    "CreateWebhookPolicyOfProject",
    "UpdateWebhookPolicyOfProject",
    "ListExecutionsOfWebhookPolicy",
    "ListTasksOfWebhookExecution",
    "createRetention",
    "updateRetention",
]
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
# The spec's info.description: no string may hold U+0000 (answered 400), so none is generated.
CONFIG = SchemathesisConfig.from_dict(
    {
        "generation": {
            "allow-x00": False,
            "deterministic": True,
            "database": "none",
            "max-examples": MAX_EXAMPLES,
        },
        "phases": {"stateful": {"enabled": True}},
        "operations": [
            {
                "include-operation-id": RULES_IN_DESCRIPTION,
                "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "400"]}},
            }
        ],
    }
)
SCHEMA = schemathesis.openapi.from_path(str(SPEC_PATH), config=CONFIG)
HYPOTHESIS = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@SCHEMA.hook
def map_query(context, query):
    """``q``'s keys and value forms depend on the operation and on each key's type (the
    operations' ``q`` descriptions say so): no regular expression states them, so generated
    ``q`` values are left out rather than reported as refused."""
    if query and "q" in query and context.operation.path != "/search":
        query = {k: v for k, v in query.items() if k != "q"}
    return query


@SCHEMA.hook
def filter_path_parameters(context, path_parameters):
    """``<project>/<repository>`` is at most 255 characters: a rule across two parameters (their
    description says it), so generated pairs beyond it are left out."""
    params = path_parameters or {}
    if "repository_name" not in params or "project_name" not in params:
        return True
    full = f"{params['project_name']}/{unquote(str(params['repository_name']))}"
    return len(full) <= 255


def test_rules_outside_the_schema_are_described():
    for operation_id in RULES_IN_DESCRIPTION:
        raw = SCHEMA.find_operation_by_id(operation_id).definition.raw
        assert "400" in raw.get("description", ""), f"{operation_id}: say which rules answer 400"


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@pytest.fixture(scope="module")
def server(backend, tmp_path_factory):
    """A server of its own per backend: the fuzz leaves registry endpoints, replication
    policies, schedules, quotas and configuration behind, which other tests must not inherit."""
    tmp = tmp_path_factory.mktemp(f"fuzz-{backend}")
    if backend == "postgresql":
        with postgres_database() as url, running_server(tmp, url) as srv:
            yield srv
    else:
        with running_server(tmp) as srv:
            yield srv


@pytest.fixture
def admin_api(server):
    with ApiClient(server.url, ("admin", ADMIN_PASSWORD)) as client:
        yield client


@pytest.fixture(params=["admin", "user"])
def identity(request, admin_api):
    """The Authorization header value of the caller under test."""
    if request.param == "admin":
        yield _basic("admin", ADMIN_PASSWORD)
        return
    name = f"fuzz-{uuid.uuid4().hex[:8]}"
    password = "Fuzz3r!" + uuid.uuid4().hex[:6]
    r = admin_api.post(
        "/users",
        json={
            "username": name,
            "email": f"{name}@example.com",
            "realname": "fuzzer",
            "password": password,
        },
    )
    assert r.status_code == 201, r.text
    yield _basic(name, password)
    admin_api.delete(r.headers["Location"].removeprefix("/api/v2.0"))


def _protect(case) -> None:
    """A write aimed at the bootstrap project (other tests rely on it) goes to a missing one."""
    if case.method.upper() in {"GET", "HEAD"} or not case.path_parameters:
        return
    value = str(case.path_parameters.get("project_name_or_id", ""))
    if value in PROTECTED_PROJECTS or value.lower() == "library":
        case.path_parameters["project_name_or_id"] = MISSING_PROJECT


class _Configurations:
    """Undo whatever an ``updateConfigurations`` call changed (read-only mode, auth mode...),
    and a fuzzed pause of the job queues (the shared server's jobs must keep running)."""

    def __init__(self, admin_api: ApiClient, case) -> None:
        self.admin_api = admin_api
        self.saved = None
        self.operation = case.operation.definition.raw.get("operationId")
        if self.operation == "updateConfigurations":
            self.saved = self._current()

    def _current(self) -> dict:
        return {k: v["value"] for k, v in self.admin_api.get("/configurations").json().items()}

    def restore(self) -> None:
        if self.saved is not None and self._current() != self.saved:
            assert self.admin_api.put("/configurations", json=self.saved).status_code == 200
        if self.operation == "actionPendingJobs":
            self.admin_api.put("/jobservice/queues/all", json={"action": "resume"})


@SCHEMA.parametrize()
@HYPOTHESIS
def test_api_conforms_to_spec(case, server, identity, admin_api):
    _protect(case)
    configurations = _Configurations(admin_api, case)
    session = requests.Session()
    try:
        case.call_and_validate(
            base_url=f"{server.url}/api/v2.0",
            session=session,
            headers={"Authorization": identity},
            timeout=30,
        )
    finally:
        session.close()
        configurations.restore()


def test_api_conforms_to_spec_statefully(server, identity, admin_api):
    """Sequences of calls linked through the spec (create, then read/update/delete it)."""
    base_url = f"{server.url}/api/v2.0"

    class Machine(SCHEMA.as_state_machine()):
        def before_call(self, case):
            _protect(case)
            self._configurations = _Configurations(admin_api, case)

        def after_call(self, response, case):
            super().after_call(response, case)
            self._configurations.restore()

        def get_call_kwargs(self, case):
            return {"base_url": base_url, "headers": {"Authorization": identity}, "timeout": 30}

    run_state_machine_as_test(
        Machine,
        settings=settings(HYPOTHESIS, max_examples=STATEFUL_EXAMPLES, stateful_step_count=6),
    )
