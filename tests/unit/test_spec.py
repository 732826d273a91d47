"""openapi/swagger.yaml is valid and every operation follows the project's conventions."""

import importlib
import re
from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from harbor_api.api.resolver import handler_name

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi" / "swagger.yaml"
SPEC = yaml.safe_load(SPEC_PATH.read_text())
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
REQUEST_ID = "#/components/parameters/requestId"
CAMEL_CASE = re.compile(r"^[a-z][a-zA-Z0-9]*$")
# Harbor itself spells these operationIds in PascalCase; generated Harbor clients use them.
HARBOR_PASCAL_CASE_IDS = {
    "ListLabels",
    "CreateLabel",
    "GetByID",
    "UpdateLabel",
    "DeleteLabel",
    "CopyArtifact",
    # the webhook operations, Harbor's own ids
    "ListWebhookPoliciesOfProject",
    "CreateWebhookPolicyOfProject",
    "GetWebhookPolicyOfProject",
    "UpdateWebhookPolicyOfProject",
    "DeleteWebhookPolicyOfProject",
    "ListExecutionsOfWebhookPolicy",
    "ListTasksOfWebhookExecution",
    "GetLogsOfWebhookTask",
    "LastTrigger",
    "GetSupportedEventTypes",
    "ListImmuRules",
    "CreateImmuRule",
    "UpdateImmuRule",
    "DeleteImmuRule",
}
# Error responses whose body Harbor defines differently from Errors (kept for compatibility).
HARBOR_ERROR_BODIES = {("POST /ldap/users/import", "404")}  # the users that failed to import


def operations():
    for path, item in SPEC["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", item, op


OPERATIONS = list(operations())
IDS = [name for name, _, _ in OPERATIONS]


def test_spec_validates_with_openapi_spec_validator():
    spec_dict, base_uri = read_from_filename(str(SPEC_PATH))
    validate(spec_dict, base_uri=base_uri)
    assert SPEC["openapi"].startswith("3.0")


def test_operation_ids_are_unique_and_camel_case():
    ids = [op.get("operationId") for _, _, op in OPERATIONS]
    assert all(ids), "every operation needs an operationId"
    not_camel = [i for i in ids if not CAMEL_CASE.match(i) and i not in HARBOR_PASCAL_CASE_IDS]
    assert not not_camel, f"operationIds must be camelCase: {not_camel}"
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


@pytest.mark.parametrize(("name", "item", "op"), OPERATIONS, ids=IDS)
def test_operation_has_tag_summary_and_request_id(name, item, op):
    assert op.get("tags") and op["tags"][0], f"{name}: tag missing"
    assert op.get("summary", "").strip(), f"{name}: summary missing"
    params = [p.get("$ref") for p in item.get("parameters", []) + op.get("parameters", [])]
    assert REQUEST_ID in params, f"{name}: X-Request-Id parameter missing"


@pytest.mark.parametrize(("name", "item", "op"), OPERATIONS, ids=IDS)
def test_error_responses_use_the_errors_schema(name, item, op):
    for status, response in op["responses"].items():
        if str(status).startswith(("4", "5")) and (name, str(status)) not in HARBOR_ERROR_BODIES:
            ref = response.get("$ref", "")
            assert ref == f"#/components/responses/{status}", (
                f"{name}: {status} must reference #/components/responses/{status}"
            )
    for status, response in SPEC["components"]["responses"].items():
        if str(status).startswith(("4", "5")):
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Errors"}, status


def test_every_operation_resolves_to_its_own_handler():
    targets: dict[str, str] = {}
    for name, _, op in OPERATIONS:
        target = handler_name(op)
        module_name, function = target.rsplit(".", 1)
        module = importlib.import_module(module_name)
        assert callable(getattr(module, function, None)), f"{name}: {target} does not exist"
        assert target not in targets, f"{name} and {targets.get(target)} share {target}"
        targets[target] = name


def test_paths_are_harbor_paths():
    assert SPEC["servers"] == [{"url": "/api/v2.0"}]
    for path in SPEC["paths"]:
        assert path.startswith("/") and not path.startswith("/api/"), path
        assert not path.endswith("/") or path == "/", path


def test_allow_header_lists_each_paths_declared_methods():
    """A 405's ``Allow`` (harbor_api.api.allow) is the spec's method list for the path; an
    integer path parameter matches digits only, as in the router (``/users/current``)."""
    from harbor_api.api.allow import AllowedMethods

    allowed = AllowedMethods(SPEC)
    for path, item in SPEC["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "7", path)
        if concrete != path and any(
            re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", other), concrete)
            for other in SPEC["paths"]
            if other != path
        ):
            continue  # an overlapping template (e.g. /users/{id} and /users/current)
        declared = {m.upper() for m in item if m in METHODS}
        if "GET" in declared:
            declared.add("HEAD")
        assert set(allowed.for_path("/api/v2.0" + concrete).split(", ")) == declared, path
    assert allowed.for_path("/api/v2.0/users/current") == "GET, HEAD"
