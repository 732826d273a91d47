"""The one exception hierarchy: every class has a table entry; both renderers agree with it."""

import inspect
import json
import runpy
from pathlib import Path

import pytest

from harbor_api import errors
from harbor_api.errors import ERROR_TABLE, HarborError

ROOT = Path(__file__).resolve().parents[2]
ERROR_CLASSES = [cls for _, cls in inspect.getmembers(errors, inspect.isclass)
                 if issubclass(cls, HarborError)]


def test_every_error_class_has_a_table_entry():
    assert len(ERROR_CLASSES) > 20
    missing = [cls.__name__ for cls in ERROR_CLASSES if cls.code not in ERROR_TABLE]
    assert missing == []


def test_table_entries_are_well_formed():
    for code, spec in ERROR_TABLE.items():
        assert code == code.upper() and " " not in code, code
        assert 400 <= spec.status <= 599 and spec.message, code


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: c.__name__)
def test_status_and_default_message_come_from_the_table(cls):
    exc = cls()
    assert exc.status == ERROR_TABLE[cls.code].status
    assert exc.message == ERROR_TABLE[cls.code].message
    assert cls("custom").message == "custom"


def test_api_envelope_is_harbors():
    body = json.loads(errors.api_error_body("NOT_FOUND", "project x not found"))
    assert body == {"errors": [{"code": "NOT_FOUND", "message": "project x not found"}]}


def test_oci_envelope_uses_distribution_codes_and_detail():
    body = json.loads(errors.oci_error_body("FORBIDDEN", "no push", {"repo": "a/b"}))
    assert body == {"errors": [{"code": "DENIED", "message": "no push",
                                "detail": {"repo": "a/b"}}]}
    plain = json.loads(errors.oci_error_body("MANIFEST_UNKNOWN", "gone"))
    assert plain == {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "gone"}]}


def test_internal_errors_never_leak_their_message():
    assert errors.public_message(errors.InternalError("db password is hunter2")) == \
        errors.GENERIC_SERVER_MESSAGE
    assert errors.public_message(errors.ServiceUnavailableError("redis down")) == "redis down"
    assert errors.public_message(errors.ConflictError("exists")) == "exists"


def test_error_documentation_matches_the_table():
    generator = runpy.run_path(str(ROOT / "scripts" / "gen_error_docs.py"))
    doc = (ROOT / "docs" / "errors.md").read_text()
    assert doc == generator["render"](), "docs/errors.md is stale: run scripts/gen_error_docs.py"
